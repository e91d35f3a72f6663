"""A family member back in Python: its :class:`~scaling_search.models.layout.Layout` from the file it was saved in.

A member is saved in three kinds of file: a folder of deployable files' ``manifest.json``
(``scaling-search export``), one of a study's ``configs/phiN.json`` (``scaling-search run``), or
any JSON file holding a layout (``scaling-search train --json`` prints one). :func:`load_member`
reads each; :func:`~scaling_search.models.network.build` turns the layout into the module.
"""

from __future__ import annotations

from pathlib import Path

from scaling_search.errors import InputError
from scaling_search.handoff.manifest import MANIFEST_NAME, Manifest, is_manifest
from scaling_search.models.choice import layout_in, read_json
from scaling_search.models.layout import Layout


def load_member(path: str | Path, member: str | None = None) -> Layout:
    """The layout of the family member saved in ``path``, to build with :func:`scaling_search.build`.

    ``path`` is a deployables manifest (or the folder holding it), a study's ``configs/phiN.json``
    or a layout JSON file. ``member`` names the member (``"phi2"``) where a manifest lists several,
    and is checked against the name a config file gives. Raises InputError, naming the file, for
    a file that is none of these, or a member that is not in it.

    Example (a study's configs/phi1.json holds the member's name, coefficients, scale and layout):
        >>> import json, tempfile
        >>> from pathlib import Path
        >>> import scaling_search as ss
        >>> derived = ss.derive(1.2, 1.1, 1.15, phis=[1])[0]
        >>> config = Path(tempfile.mkdtemp()) / "phi1.json"
        >>> _ = config.write_text(json.dumps({"name": "phi1", "phi": 1.0, "layout": derived.layout.to_dict()}))
        >>> layout = ss.load_member(config)
        >>> layout == derived.layout, layout.resolution, layout.dropout
        (True, 256, 0.3)
        >>> ss.load_member(config, "phi2")
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: .../phi1.json holds member 'phi1', not 'phi2'
    """
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / MANIFEST_NAME
    data = read_json(path)
    if is_manifest(data):
        try:
            manifest = Manifest.from_json(data)
            if member is not None:
                return manifest.member(member).layout
        except InputError as err:
            raise InputError(f"{path}: {err}") from None
        if len(manifest.members) > 1:
            raise InputError(f"{path} holds {', '.join(m.name for m in manifest.members)}; name the member to load "
                             f"(e.g. load_member(path, {manifest.members[-1].name!r}))")
        return manifest.members[0].layout
    name = data.get("name") if isinstance(data, dict) else None
    if member is not None and name is not None and name != member:
        raise InputError(f"{path} holds member {name!r}, not {member!r}")
    return layout_in(data, path)
