"""botocore's service models, loaded lazily and turned into shape plans once.

The models (``botocore/data/<service>/<version>/service-2.json.gz``) are the spec of every
operation, shape and constraint. They are read straight from botocore's data directory, without
importing botocore's client machinery, so that start-up stays fast; each model is loaded on first
use and every shape is built once and cached.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import threading
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

_CAPS_RUN = re.compile(r"([A-Z]+)([A-Z][a-z])")
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_PLURAL_ACRONYM = re.compile(r"([A-Z]{2,})s$")


@cache
def snake_case(name: str) -> str:
    """``PutRecord`` -> ``put_record``, ``StreamARN`` -> ``stream_arn``: the names boto3 uses."""
    if "_" in name:
        return name
    # A trailing plural acronym (``ARNs``) stays one word, as boto3 names it.
    name = _PLURAL_ACRONYM.sub(lambda m: "_" + m.group(1).lower() + "s", name)
    text = _CAPS_RUN.sub(r"\1_\2", name)
    text = _LOWER_UPPER.sub(r"\1_\2", text)
    return text.lower().lstrip("_")
