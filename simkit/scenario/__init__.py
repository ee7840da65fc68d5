"""The scenario format: pydantic models, YAML loading, change overlays, JSON Schema."""

from simkit.scenario.models import ScenarioModel
from simkit.scenario.overlay import merge_patch, set_path
from simkit.scenario.scenario import (
    Overlay,
    Scenario,
    load_scenario,
    parse_scenario,
    scenario_problems,
)

__all__ = [
    "Overlay",
    "Scenario",
    "ScenarioModel",
    "json_schema",
    "load_scenario",
    "merge_patch",
    "parse_scenario",
    "scenario_problems",
    "set_path",
]


def json_schema() -> dict[str, object]:
    """The JSON Schema of scenario files, for editors that autocomplete YAML."""
    schema = ScenarioModel.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "simkit scenario"
    return schema
