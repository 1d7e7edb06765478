"""Every Handler named in template.yaml imports from its CodeUri with the layer on sys.path."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from template_support import LAYER_PYTHON, REPO, load_template, resources_of_type

TEMPLATE = load_template()
FUNCTIONS = resources_of_type(TEMPLATE, "AWS::Serverless::Function")
DEFAULT_HANDLER = TEMPLATE.get("Globals", {}).get("Function", {}).get("Handler")


@pytest.fixture
def layer_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(LAYER_PYTHON))


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_handler_is_importable_and_callable(logical_id, layer_on_path):
    props = FUNCTIONS[logical_id]["Properties"]
    handler = props.get("Handler", DEFAULT_HANDLER)
    module_path, _, function_name = handler.rpartition(".")
    source = REPO / props["CodeUri"] / (module_path.replace(".", "/") + ".py")
    assert source.is_file(), f"{logical_id}: {source.relative_to(REPO)} does not exist"

    unique_name = f"handler_{logical_id}"
    spec = importlib.util.spec_from_file_location(unique_name, source)
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique_name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(unique_name, None)
    assert callable(getattr(module, function_name, None)), f"{logical_id}: no callable {function_name!r}"
