"""A rustvol netCDF-4 file moved to native HDF5 with h5repack, its dimension scales re-made by
`python -m rustvol.scales`, read by native h5py, h5netcdf, xarray and h5dump."""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import xarray as xr

from conftest import INFO
from test_roundtrip import ENCODING, sample

HERE = os.path.dirname(os.path.abspath(__file__))
H5REPACK = os.environ.get("RUSTVOL_H5REPACK") or shutil.which("h5repack")
H5DUMP = os.environ.get("RUSTVOL_H5DUMP") or shutil.which("h5dump")


def native_env():
    env = dict(os.environ)
    for k in ("HDF5_VOL_CONNECTOR", "HDF5_PLUGIN_PATH"):
        env.pop(k, None)
    env["RUSTVOL_XARRAY_INFO"] = "native"     # conftest, imported with test_roundtrip
    return env


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd[0]}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


@pytest.mark.skipif(INFO == "native", reason="exports a rustvol file")
@pytest.mark.skipif(not H5REPACK, reason="no h5repack (HDF5 1.14 tools)")
def test_h5repack_to_native_keeps_scales(name, tmp_path):
    import rustvol
    ds = sample()
    ds.to_netcdf(name, engine="h5netcdf", encoding=ENCODING, unlimited_dims=["time"])
    sub = xr.Dataset({"s": ("z", [1.0, 2.0])}, coords={"z": [3, 4]}, attrs={"g": "sub"})
    sub.to_netcdf(name, engine="h5netcdf", mode="a", group="g")
    out = str(tmp_path / "native.nc")
    env = native_env()
    env["HDF5_PLUGIN_PATH"] = rustvol.plugin_dir()
    run([H5REPACK, "--src-vol-name=rustvol", f"--src-vol-info={INFO}", name, out], env=env)
    said = run([sys.executable, "-m", "rustvol.scales", INFO, name, out], env=native_env())
    assert "5 datasets, 10 attachments to 4 scales" in said, said
    check = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {HERE!r})
        import h5netcdf, h5py, xarray as xr
        from test_roundtrip import sample
        out = {out!r}
        with h5py.File(out, "r") as f:
            assert f.id.get_access_plist().get_driver() == h5py.h5fd.SEC2   # a native file
            dl = f["temperature"].attrs["DIMENSION_LIST"]
            assert [[f[r].name for r in refs] for refs in dl] == [["/time"], ["/lat"], ["/lon"]]
            assert sorted((f[r].name, int(a)) for r, a in f["lat"].attrs["REFERENCE_LIST"]) == \\
                [("/flags", 0), ("/precip", 1), ("/station", 0), ("/temperature", 1)]
        with xr.open_dataset(out, engine="h5netcdf") as back:
            xr.testing.assert_identical(back.load(), sample())
            assert back.encoding["unlimited_dims"] == {{"time"}}
            assert back["temperature"].encoding["complevel"] == 4
        with xr.open_dataset(out, engine="h5netcdf", group="g") as back:
            assert back.load()["s"].values.tolist() == [1.0, 2.0] and back.attrs == {{"g": "sub"}}
        with h5netcdf.File(out, "r") as f:
            assert {{k: (v.size, v.isunlimited()) for k, v in f.dimensions.items()}} == \\
                {{"time": (6, True), "lat": (4, False), "lon": (5, False)}}
            assert list(f["g"].dimensions) == ["z"]
        print("native ok")
    """)
    assert "native ok" in run([sys.executable, "-c", check], env=native_env())
    if H5DUMP:
        dump = run([H5DUMP, "-a", "/temperature/DIMENSION_LIST", out], env=native_env())
        assert "H5T_STD_REF_OBJECT" in dump and '"/time"' in dump and '"/lon"' in dump, dump
