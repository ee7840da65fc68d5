// The quick estimate, drawn in the browser the moment a slider moves (app/instant_estimate.py).
//
// The page sends the quick estimates it has worked out (simkit.analysis.quick, on the server)
// for the position on the screen and for the positions one step from it, each under the
// position's key: a context (what the sliders on the screen do not change) and the value of
// each slider on the screen. When a slider moves, this code reads the sliders' values, makes
// the same key and, when the page sent an estimate for it, draws that estimate at once, before
// the server has heard of the move. Otherwise the page's own estimate comes with its next run.
// Every number drawn comes from the page: nothing is computed here.
//
// The sliders are found by their accessible names (the labels the page gives them) and read
// from their range inputs. Should they not be found, nothing is drawn here and the page works
// as before.

const STORE = "__simkitInstantEstimate";
const KEPT = 200; // estimates kept, the oldest dropped first

function store() {
  if (!window[STORE]) {
    window[STORE] = {
      context: null, entries: new Map(), view: null, listening: false, takenAway: 0,
    };
  }
  return window[STORE];
}

function sliderValue(label) {
  for (const group of document.querySelectorAll('[data-testid="stSlider"] [role="group"]')) {
    if (group.getAttribute("aria-label") === label) {
      const input = group.querySelector('input[type="range"]');
      const value = input ? Number.parseFloat(input.value) : Number.NaN;
      return Number.isFinite(value) ? value : null;
    }
  }
  return null;
}

// The key of the position the sliders on the screen stand at (as instant_estimate.position_key
// makes it), or null when a slider is not found.
function positionKey(data) {
  const values = [];
  for (const label of data.labels) {
    const value = sliderValue(label);
    if (value === null) return null;
    values.push(value.toFixed(6));
  }
  return [data.context, ...values].join("|");
}

function cell(tag, text) {
  const element = document.createElement(tag);
  element.textContent = text;
  return element;
}

function draw(box, entry, data, source) {
  if (!entry) {
    box.replaceChildren();
    box.removeAttribute("data-source");
    return;
  }
  const table = document.createElement("table");
  const head = document.createElement("tr");
  for (const column of data.columns) head.append(cell("th", column));
  table.append(head);
  for (const row of entry.rows) {
    const line = document.createElement("tr");
    for (const value of row) line.append(cell("td", value));
    table.append(line);
  }
  const scroll = document.createElement("div"); // a narrow screen scrolls the table sideways
  scroll.append(table);
  box.replaceChildren(cell("h4", data.heading), cell("p", data.caption), scroll);
  box.setAttribute("data-source", source); // "page" or "browser": for tests
  box.setAttribute("data-position", entry.position);
}

// A slider moved (or may have): draw the estimate of the position it reached, if the page sent
// one; nothing where it sent none (the page's run brings that estimate) or where the position is
// the page's own with its simulated table on the screen.
function lookup() {
  const view = store().view;
  if (!view || !view.box.isConnected) return;
  const key = positionKey(view.data);
  if (key === null || key === view.drawn) return;
  view.drawn = key;
  const own = key === view.data.current;
  const entry = own && !view.data.show ? null : store().entries.get(key);
  draw(view.box, entry || null, view.data, own ? "page" : "browser");
}

// The page's simulated table, when one of its present run is on the screen: in the container
// the page names (a keyed container carries the class st-key-<key>), in an element Streamlit
// does not mark stale (one left from the run before is, until the new run replaces it).
function pageTable(data) {
  if (!data.table) return null;
  const grid = document.querySelector(`.st-key-${CSS.escape(data.table)} [data-testid="stDataFrame"]`);
  const element = grid && grid.closest(".stElementContainer, [data-testid='stElementContainer']");
  return element && element.getAttribute("data-stale") !== "true" ? grid : null;
}

// While the page's own estimate is meant to be shown, watch (once a frame) for its simulated
// table: as it comes, take the estimate away in the same frame, and draw it no more for that
// position, rather than leave both on the screen until the page's next message says so. A view
// replaced by the page's next message stops the watch.
function watchForTable(view) {
  const step = () => {
    if (store().view !== view || !view.data.show) return;
    if (pageTable(view.data)) {
      view.data = { ...view.data, show: false };
      if (view.drawn === view.data.current) {
        draw(view.box, null, view.data, "page");
        store().takenAway += 1; // for tests: the estimates taken away as their table came
      }
      return;
    }
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}

function listen() {
  const kept = store();
  if (kept.listening) return;
  kept.listening = true;
  // After the browser has taken the event (the slider has its new value), before it paints.
  const soon = () => requestAnimationFrame(lookup);
  document.addEventListener("keydown", soon, true);
  document.addEventListener("pointerup", soon, true);
  document.addEventListener("pointermove", (event) => event.buttons && soon(), true);
}

export default function (component) {
  const { parentElement, data } = component;
  const kept = store();
  if (kept.context !== data.context) {
    kept.context = data.context;
    kept.entries = new Map();
  }
  for (const [key, entry] of Object.entries(data.entries)) {
    kept.entries.delete(key); // kept in the order last sent
    kept.entries.set(key, entry);
  }
  while (kept.entries.size > KEPT) kept.entries.delete(kept.entries.keys().next().value);
  const box = parentElement.querySelector(".simkit-instant-estimate");
  // The page's run is for the position it names; the sliders may have moved on since: then
  // the estimate sent for where they stand, if any, else nothing until the page's next run.
  const here = positionKey(data);
  let shown = data.show ? data.current : null;
  let source = "page";
  if (here !== null && here !== data.current) {
    shown = kept.entries.has(here) ? here : null;
    source = "browser";
  }
  const view = { box, data, drawn: here === null ? data.current : here };
  kept.view = view;
  draw(box, shown === null ? null : kept.entries.get(shown), data, source);
  if (data.show) watchForTable(view);
  listen();
}
