"""The emulator's settings: command-line flags, ``EMULATOR_*`` environment variables, defaults.

Each field of ``Config`` is one flag (``--kinesis-transition-seconds``) and one environment variable
(``EMULATOR_KINESIS_TRANSITION_SECONDS``); a flag wins over the variable, the variable over the default.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class Config:
    host: str = field(default="127.0.0.1", metadata={"help": "address to listen on"})
    port: int = field(default=4566, metadata={"help": "port to listen on (0: any free port)"})
    log_level: str = field(default="INFO", metadata={"help": "DEBUG, INFO, WARNING or ERROR"})
    default_account: str = field(
        default="000000000000",
        metadata={"help": "account used when the request's access key id is not 12 digits"},
    )
    default_region: str = field(
        default="us-east-1", metadata={"help": "region used when the request carries no SigV4 credential scope"}
    )
    external_url: str = field(
        default="",
        metadata={
            "help": "the URL clients and subscribers reach the emulator at, for the links it hands out "
            "(SNS SubscribeURL, UnsubscribeURL, SigningCertURL); empty: the request's own Host"
        },
    )
    sns_filter_policies_per_topic: int = field(
        default=200,
        metadata={"help": "filter policies per SNS topic (AWS's default quota is 200; AWS raises it on request)"},
    )
    events_rules_per_bus: int = field(
        default=0,
        metadata={"help": "rules per EventBridge bus (0: AWS's default quotas, 300 in us-east-1, us-west-2 and "
                  "eu-west-1, 100 elsewhere; AWS raises them on request)"},
    )
    kinesis_transition_seconds: float = field(
        default=0.0,
        metadata={
            "help": "seconds a Kinesis stream or consumer spends CREATING, UPDATING or DELETING "
            "(0: at once; 0.5 shows the intermediate states as AWS does)"
        },
    )
    kinesis_shard_limit: int = field(
        default=0,
        metadata={
            "help": "shards per account and region (0: AWS's defaults, 20000 in us-east-1, us-west-2 "
            "and eu-west-1, 1000 elsewhere)"
        },
    )
    kinesis_throughput_limits: bool = field(
        default=False,
        metadata={
            "help": "enforce AWS's per-shard throughput limits with ProvisionedThroughputExceededException"
        },
    )
    kinesis_subscription_seconds: float = field(
        default=300.0, metadata={"help": "how long a SubscribeToShard subscription stays open"}
    )

    @staticmethod
    def env_name(name: str) -> str:
        return "EMULATOR_" + name.upper()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Config:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(cls.env_name(f.name))
            if raw is not None and raw != "":
                values[f.name] = _convert(f.type, raw, cls.env_name(f.name))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        for f in fields(cls):
            flag = "--" + f.name.replace("_", "-")
            help_text = f"{f.metadata.get('help', '')} [env {cls.env_name(f.name)}; default {f.default!r}]"
            if f.type in (bool, "bool"):
                parser.add_argument(flag, dest=f.name, action="store_const", const=True, default=None, help=help_text)
            else:
                parser.add_argument(flag, dest=f.name, default=None, type=_type_of(f.type), help=help_text)

    @classmethod
    def from_args(cls, args: argparse.Namespace, environ: dict[str, str] | None = None) -> Config:
        return cls.from_env(environ, **{f.name: getattr(args, f.name, None) for f in fields(cls)})


def _type_of(annotation: Any) -> type:
    return {"int": int, "float": float, "str": str, "bool": bool}.get(annotation, annotation)


def _convert(annotation: Any, raw: str, name: str) -> Any:
    kind = _type_of(annotation)
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{name}: expected true or false, got {raw!r}")
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{name}: expected {kind.__name__}, got {raw!r}") from None
