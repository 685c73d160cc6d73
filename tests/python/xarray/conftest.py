"""Selects the connector before anything imports h5py: rustvol.enable(RUSTVOL_XARRAY_INFO), or
native HDF5 when it is "native" (the same tests as a baseline)."""
import os

import pytest

INFO = os.environ.get("RUSTVOL_XARRAY_INFO", "backend=memory")
if INFO != "native":
    import rustvol
    rustvol.enable(INFO)


@pytest.fixture
def name(tmp_path, request):
    """A file name of its own for each test (for rustvol: a name in the store; nothing is
    written at that path)."""
    return str(tmp_path / f"{request.node.name}.nc")


@pytest.fixture
def through_rustvol():
    return INFO != "native"
