"""The Calibrate page's optional outage records: an upload (CSV or Parquet, as ``simkit calibrate
--outages`` reads it) whose unplanned outages become components the fitted services depend on.

Like the page's export, the file is kept for the session only (the uploader forgets it when the
page is not shown), parsed in a private temporary folder that is removed at once, and bounded in
size before and after decompression. A file that cannot be read is reported in the page and the
fit goes on without it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import streamlit as st
from app_support import (
    KeptUpload,
    cached,
    kept,
    kept_upload,
    private_copy,
    remember,
    shortened,
    show_problems,
)

from simkit.calibrate.outages import DEFAULT_FORMATS, OutageHistory, load_outages
from simkit.errors import InputError, Problem

__all__ = ["MAX_OUTAGE_BYTES", "outage_records", "page_problems", "read_outages"]

MAX_OUTAGE_BYTES = 10 * 1024**2
"""Largest outage upload (the uploader's limit too)."""
MAX_OUTAGE_DECOMPRESSED = 100 * 1024**2
"""Largest outage file once decompressed."""
UPLOADER = "outage_upload"
KEPT = "calibrate:outages"
"""Session key of the outage file uploaded last (:class:`KeptUpload`)."""
SERVICE_BOX = "Service of every outage (a file without a service column)"
FORMAT_BOX = "Date format of the outage records"
_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".gz", ".xz", ".bz2")
_REWORDED = (
    (re.compile(r"\(--outage-date-format\)"), f"(the box “{FORMAT_BOX}”)"),
    (
        re.compile(r"\(--outage-service NAME; service= in Python\)"),
        f"(the box “{SERVICE_BOX}”)",
    ),
    (
        re.compile(r"raise the limit \(--max-bytes / max_bytes=\) if the file is genuine, or "),
        f"this page reads at most {MAX_OUTAGE_DECOMPRESSED // 1024**2} MB of outage records once "
        "decompressed; ",
    ),
    (
        re.compile(r"\(the profile's csv settings, or --delimiter\)|pass --delimiter[^;,.]*"),
        "(save the file as comma-separated UTF-8 CSV)",
    ),
    (re.compile(r"\bexport a shorter period\b"), "keep the outages of the history's span only"),
    # the readers speak of ticket exports, and read XES, which this page does not take
    (re.compile(r"CSV, Parquet or XES ticket export"), "CSV or Parquet outage file"),
    (re.compile(r"\bticket export\b"), "outage file"),
    (re.compile(r"\bexport the tickets\b"), "save the outage records"),
    (re.compile(r" \(or Parquet / XES\)"), " (or Parquet)"),
    (re.compile(r"\bthe export\b"), "the outage file"),
    (re.compile(r"\bexport\b"), "file"),
)
"""Fixes written for the command line or for ticket exports, in this page's terms."""


def _forget() -> None:
    st.session_state.pop(KEPT, None)


def _changed() -> None:
    """A file removed with × forgets the kept one (see the page's export uploader)."""
    if st.session_state.get(UPLOADER) is None:
        _forget()


def _kept(upload: Any) -> KeptUpload | None:
    return kept_upload(upload, KEPT, MAX_OUTAGE_BYTES, _forget)


def _worded(text: str) -> str:
    for pattern, words in _REWORDED:
        text = pattern.sub(words, text)
    return text


def _for_page(problem: Problem, name: str, folder: str | None) -> Problem:
    """A problem as this page shows it: the upload's name, not the server's temporary file;
    the page's boxes, not command-line flags; outage records, not a ticket export."""
    file = problem.file
    if file is None or (folder is not None and file.startswith(folder)):
        file = name
    message = shortened(_worded(problem.message))
    return dataclasses.replace(problem, file=file, message=message, fix=_worded(problem.fix))


def page_problems(error: InputError, name: str, folder: str | None = None) -> InputError:
    """``error`` worded for this page (:func:`_for_page`)."""
    return InputError(_for_page(p, name, folder) for p in error.problems)


def read_outages(
    chosen: KeptUpload, *, timezone: str, service: str | None, date_format: str | None
) -> OutageHistory:
    """Parse the upload from a private temporary folder, removed at once.

    Raises
    ------
    InputError
        Too large, unreadable, or without what an outage history needs — naming the upload.
    """
    if len(chosen.data) > MAX_OUTAGE_BYTES:
        raise InputError.single(
            f"{chosen.name} is {len(chosen.data):,} bytes; outage records may have at most "
            f"{MAX_OUTAGE_BYTES:,}",
            "upload the outages of the history's span only, or use `simkit calibrate --outages`",
            file=chosen.name,
        )
    with private_copy(chosen.data, chosen.name, _SUFFIXES, "outages") as path:
        folder = str(path.parent)
        try:
            outages = load_outages(
                path,
                timezone=timezone,
                service=service or None,
                date_formats=(date_format,) if date_format else DEFAULT_FORMATS,
                max_bytes=MAX_OUTAGE_DECOMPRESSED,
            )
        except InputError as error:
            raise page_problems(error, chosen.name, folder) from None
    return dataclasses.replace(outages, source=chosen.name)


def _quality(outages: OutageHistory) -> None:
    """What reading the file set aside or noticed, rule by rule, in the page's words."""
    for rule in outages.rules:
        text = f"{rule.title}: {rule.count:,} {rule.unit} ({rule.action})"
        examples = ", ".join(f"row {e['row']}: {e['value']!r}" for e in list(rule.examples)[:3])
        st.caption(
            text
            + (f" — e.g. {examples}" if examples else "")
            + (f". {_worded(rule.fix)[:1].upper()}{_worded(rule.fix)[1:]}." if rule.fix else "")
        )


def outage_records(
    timezone: str,
    services: list[str],
) -> tuple[OutageHistory | None, str | None]:
    """The expander with the outage uploader; the outage history read from it (or ``None``)
    and a key naming it for the caches (``None`` without one). The boxes keep their values
    across pages, as the file does; the expander opens while a file is in use."""
    with st.expander(
        "Outage records (optional): fit the services' availability",
        expanded=st.session_state.get(KEPT) is not None,
    ):
        st.caption(
            "CSV or Parquet with columns start, end and optionally planned, service, component "
            "(docs/availability.md): each service's unplanned outages become a component it "
            "depends on, with fitted up and restore times. Planned ones are maintenance and are "
            "left out."
        )
        upload = st.file_uploader(
            "Outage records",
            type=["csv", "tsv", "txt", "gz", "xz", "bz2", "parquet"],
            max_upload_size=MAX_OUTAGE_BYTES // 1024**2,
            key=UPLOADER,
            on_change=_changed,
        )
        chosen = _kept(upload)
        if upload is None and chosen is not None:
            st.info(f"Using the outage records uploaded earlier: **{chosen.name}**")
            st.button("Forget these outage records", key="forget_outages", on_click=_forget)
        default = services[0] if len(services) == 1 else ""
        key = "calibrate:outage_service"
        service = st.text_input(SERVICE_BOX, key=kept(key, ""), placeholder=default)
        remember(key, service)
        key = "calibrate:outage_format"
        date_format = st.text_input(
            FORMAT_BOX, key=kept(key, ""), placeholder="iso, or e.g. %m/%d/%Y %H:%M"
        )
        remember(key, date_format)
        if chosen is None:
            return None, None
        settings = (timezone, service.strip() or default, date_format.strip())
        try:
            outages = cached(
                ("outages", chosen.digest, chosen.name, settings),
                lambda: read_outages(
                    chosen,
                    timezone=settings[0],
                    service=settings[1] or None,
                    date_format=settings[2] or None,
                ),
            )
        except InputError as error:
            show_problems(
                error, f"The outage records {chosen.name} cannot be read; fitted without them:"
            )
            return None, None
        rows = outages.outages.num_rows
        if rows:
            st.caption(f"{rows:,} outages read from {chosen.name}.")
        else:
            st.warning(
                f"No outage could be read from {chosen.name}: the fit goes on without outage "
                "records. What reading set aside is listed below."
            )
        _quality(outages)
        return (outages, f"{chosen.digest}:{chosen.name!r}:{settings}") if rows else (None, None)
