"""The base of every ONNX model wrapper: open a session, read the metadata, check the contract.

A model file that is missing, unreadable, of the wrong kind, or whose metadata contradicts its shapes
raises :class:`ModelContractError` with one readable message naming the file.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from installation.inference.contract import Contract, ModelContractError, check
from installation.inference.session import create_session, describe_session

log = logging.getLogger(__name__)


class OnnxModel:
    """A loaded, contract-checked model of one kind; subclasses set ``kind`` and add one method that
    does preprocess -> run -> postprocess."""

    kind: str = ""

    def __init__(self, path: str | Path, *, providers: list[str] | None = None, threads: int | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelContractError(f"{self.path}: model file not found")
        try:
            self.session = create_session(self.path, providers=providers, threads=threads)
        except Exception as exc:  # ORT raises its own exception types for damaged files
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelContractError(f"{self.path}: not a loadable ONNX model ({first})") from None
        info = describe_session(self.session)
        self.metadata: dict[str, str] = info["metadata"]
        self.contract: Contract = check(self.metadata, info["inputs"], info["outputs"],
                                        expected_kind=self.kind or None, source=str(self.path))
        self.providers = self.session.get_providers()

    def meta_list(self, key: str) -> list[str]:
        return list(json.loads(self.metadata[key]))

    def meta_int(self, key: str) -> int:
        return int(self.metadata[key])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, providers={self.providers})"
