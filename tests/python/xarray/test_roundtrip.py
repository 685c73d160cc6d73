"""netCDF-4 through h5netcdf and xarray, written and read back through rustvol (or native HDF5,
RUSTVOL_XARRAY_INFO=native, for comparison): tests/python/run_xarray.sh runs it."""
import os

import h5netcdf
import h5py
import numpy as np
import pandas as pd
import xarray as xr

from conftest import INFO


def sample():
    rng = np.random.default_rng(7)
    time = pd.date_range("2026-01-01", periods=6, freq="6h")
    ds = xr.Dataset(
        {
            "temperature": (("time", "lat", "lon"), rng.normal(280, 5, (6, 4, 5)).astype("f4"),
                            {"units": "K", "long_name": "air temperature", "valid_range": [150.0, 350.0]}),
            "precip": (("time", "lat", "lon"), rng.gamma(1.0, 2.0, (6, 4, 5)),
                       {"units": "mm", "cell_methods": "time: sum"}),
            "station": ("lat", np.array(["north", "mid-n", "mid-s", "south"], dtype=object)),
            "flags": (("lat", "lon"), np.arange(20, dtype="i2").reshape(4, 5),
                      {"flag_values": np.array([0, 1], dtype="i2")}),
        },
        coords={
            "time": time,
            "lat": ("lat", np.linspace(-45.0, 45.0, 4), {"units": "degrees_north", "axis": "Y"}),
            "lon": ("lon", np.linspace(0.0, 320.0, 5), {"units": "degrees_east", "axis": "X"}),
        },
        attrs={"title": "rustvol round trip", "Conventions": "CF-1.8", "version": 3},
    )
    return ds


ENCODING = {
    "temperature": {"zlib": True, "complevel": 4, "shuffle": True, "chunksizes": (2, 4, 5),
                    "_FillValue": -999.0},
    "precip": {"zlib": True, "complevel": 1, "fletcher32": True},
}


def test_through_rustvol(name, through_rustvol):
    """The data really goes through the connector: no native file at the name."""
    xr.Dataset({"a": ("x", [1, 2, 3])}).to_netcdf(name, engine="h5netcdf")
    if through_rustvol:
        import rustvol
        assert not os.path.exists(name)
        opts = dict(kv.split("=", 1) for kv in INFO.split(";") if "=" in kv)
        if opts.get("backend") == "dir":
            # the connector got the info string: the file is in the store under its root
            assert os.path.isdir(os.path.join(opts["root"], name.lstrip("/"))), \
                f"{name} is not in the store {opts['root']}"
        site = os.environ.get("RUSTVOL_XARRAY_EXPECT_BUNDLED")
        if site:
            # the plugin of the wheel this run installed (run_xarray.sh), found by the package
            assert rustvol.plugin_dir() == rustvol.BUNDLED_PLUGIN_DIR
            assert rustvol.BUNDLED_PLUGIN_DIR == os.path.join(os.path.abspath(site), "rustvol", "plugin"), \
                f"rustvol was imported from {rustvol.__file__}, not from the wheel installed in {site}"
        with h5py.File(name, "r") as f:
            assert rustvol.connector_name(f) == "rustvol"
    else:
        assert h5py.is_hdf5(name)


def test_roundtrip_identical(name):
    ds = sample()
    ds.to_netcdf(name, engine="h5netcdf", encoding=ENCODING, unlimited_dims=["time"])
    with xr.open_dataset(name, engine="h5netcdf") as back:
        back.load()
        xr.testing.assert_identical(back, ds)
        assert back.encoding["unlimited_dims"] == {"time"}
        t = back["temperature"].encoding
        assert t["zlib"] is True and t["complevel"] == 4 and t["shuffle"] is True
        assert t["chunksizes"] == (2, 4, 5)
        assert t["_FillValue"] == -999.0
        p = back["precip"].encoding
        assert p["zlib"] is True and p["complevel"] == 1 and p["fletcher32"] is True
        assert back["time"].encoding["units"].startswith("hours since") or \
            back["time"].encoding["units"].startswith("days since")


def test_dimensions_h5netcdf(name):
    sample().to_netcdf(name, engine="h5netcdf", encoding=ENCODING, unlimited_dims=["time"])
    with h5netcdf.File(name, "r") as f:
        dims = f.dimensions
        assert list(dims) == ["time", "lat", "lon"]
        assert {k: v.size for k, v in dims.items()} == {"time": 6, "lat": 4, "lon": 5}
        assert [k for k, v in dims.items() if v.isunlimited()] == ["time"]
        assert f.variables["temperature"].dimensions == ("time", "lat", "lon")
        assert f.variables["station"].dimensions == ("lat",)
        assert f.variables["temperature"].compression == "gzip"
        assert f.variables["temperature"].compression_opts == 4
        assert f.attrs["title"] == "rustvol round trip"


def test_raw_dimension_scale_attributes(name):
    """DIMENSION_LIST and REFERENCE_LIST read as h5py reads them from a native file."""
    sample().to_netcdf(name, engine="h5netcdf")
    with h5py.File(name, "r") as f:
        dl = f["temperature"].attrs["DIMENSION_LIST"]
        assert dl.dtype == h5py.vlen_dtype(h5py.ref_dtype) and dl.shape == (3,)
        assert [[f[r].name for r in refs] for refs in dl] == [["/time"], ["/lat"], ["/lon"]]
        rl = f["lat"].attrs["REFERENCE_LIST"]
        assert rl.dtype.names == ("dataset", "dimension")
        assert rl.dtype.fields["dataset"][0] == h5py.ref_dtype
        assert rl.dtype.fields["dimension"][1] == 8 and rl.dtype.itemsize == 16
        users = sorted((f[r].name, int(axis)) for r, axis in rl)
        assert users == [("/flags", 0), ("/precip", 1), ("/station", 0), ("/temperature", 1)]
        assert f["lat"].attrs["CLASS"] == b"DIMENSION_SCALE"
        assert [d.label for d in f["temperature"].dims] == ["", "", ""]
        assert [f["temperature"].dims[i][0].name for i in range(3)] == ["/time", "/lat", "/lon"]


def test_groups(name):
    root = sample().isel(time=slice(0, 2))
    sub = xr.Dataset({"depth": ("z", np.arange(3.0), {"units": "m"}),
                      "salinity": (("z", "lon"), np.full((3, 5), 35.0))},
                     coords={"z": [0.0, 10.0, 20.0], "lon": root["lon"]}, attrs={"kind": "ocean"})
    deeper = xr.Dataset({"v": ("w", np.array([1, 2], dtype="i8"))}, coords={"w": [5, 6]})
    root.to_netcdf(name, engine="h5netcdf", mode="w")
    sub.to_netcdf(name, engine="h5netcdf", mode="a", group="ocean")
    deeper.to_netcdf(name, engine="h5netcdf", mode="a", group="ocean/deep")
    for group, want in ((None, root), ("ocean", sub), ("ocean/deep", deeper)):
        with xr.open_dataset(name, engine="h5netcdf", group=group) as back:
            xr.testing.assert_identical(back.load(), want)
    with h5netcdf.File(name, "r") as f:
        assert list(f.groups) == ["ocean"]
        assert list(f["ocean"].dimensions) == ["z"]     # lon is the root group's
        assert f["ocean"]["salinity"].dimensions == ("z", "lon")
        assert list(f["ocean/deep"].dimensions) == ["w"]


def test_datatree(name):
    tree = xr.DataTree.from_dict({"/": sample().isel(time=slice(0, 1)),
                                  "/a": xr.Dataset({"q": ("n", [1.5, 2.5])}),
                                  "/a/b": xr.Dataset({"r": ("m", [1, 2, 3])})})
    tree.to_netcdf(name, engine="h5netcdf")
    back = xr.open_datatree(name, engine="h5netcdf")
    try:
        xr.testing.assert_identical(back.load(), tree)
    finally:
        back.close()


def test_unlimited_append_h5netcdf(name):
    """An unlimited dimension grown by writing past its end, through h5netcdf's own API,
    with a variable in a child group using the parent's dimension."""
    with h5netcdf.File(name, "w") as f:
        f.dimensions = {"time": None, "x": 3}
        t = f.create_variable("time", ("time",), "f8")
        v = f.create_variable("v", ("time", "x"), "i4", compression="gzip", compression_opts=2)
        g = f.create_group("child")
        w = g.create_variable("w", ("time",), "f4")
        for step in range(4):
            f.resize_dimension("time", step + 1)
            t[step] = step * 0.5
            v[step, :] = [step, step + 1, step + 2]
            w[step] = -step
    with h5netcdf.File(name, "r") as f:
        assert f.dimensions["time"].isunlimited() and f.dimensions["time"].size == 4
        assert f["v"].dimensions == ("time", "x") and f["v"].shape == (4, 3)
        assert f["child/w"].dimensions == ("time",)
        np.testing.assert_array_equal(f["v"][...], [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]])
        np.testing.assert_array_equal(f["time"][...], [0.0, 0.5, 1.0, 1.5])
    with xr.open_dataset(name, engine="h5netcdf") as back:
        assert back.sizes == {"time": 4, "x": 3}
        assert back.encoding["unlimited_dims"] == {"time"}


def test_append_along_unlimited_xarray(name):
    ds = sample()
    ds.isel(time=slice(0, 3)).to_netcdf(name, engine="h5netcdf", unlimited_dims=["time"])
    with h5netcdf.File(name, "a") as f:
        n = f.dimensions["time"].size
        f.resize_dimension("time", n + 3)
        rest = ds.isel(time=slice(3, 6))
        for var in ("temperature", "precip"):
            f[var][n:n + 3] = rest[var].values
        step = f["time"][1] - f["time"][0]
        f["time"][n:n + 3] = f["time"][n - 1] + np.arange(1, 4) * step
    with xr.open_dataset(name, engine="h5netcdf") as back:
        back.load()
        assert back.sizes == {"time": 6, "lat": 4, "lon": 5}
        np.testing.assert_array_equal(back["time"].values, ds["time"].values)
        for var in ("temperature", "precip"):
            np.testing.assert_array_equal(back[var].values, ds[var].values)
            assert xr.testing.assert_identical(back[var].drop_vars("time"), ds[var].drop_vars("time")) is None


def test_reopen_and_attach(name):
    """Variables added in a second session attach to the existing dimension scales (HDF5's
    dimension-scale library reads and extends REFERENCE_LIST)."""
    with h5netcdf.File(name, "w") as f:
        f.dimensions = {"x": 4}
        f.create_variable("x", ("x",), "f8", data=np.arange(4.0))
        f.create_variable("a", ("x",), "f8", data=np.ones(4))
    with h5netcdf.File(name, "a") as f:
        f.create_variable("b", ("x",), "i2", data=np.arange(4, dtype="i2"))
        f.create_variable("c", ("x", "x"), "f4", data=np.eye(4, dtype="f4"))
    with xr.open_dataset(name, engine="h5netcdf") as back:
        assert back["b"].dtype == np.int16 and back["b"].dims == ("x",)
        assert back["c"].dims == ("x", "x")
        np.testing.assert_array_equal(back["x"].values, np.arange(4.0))
    with h5py.File(name, "r") as f:
        users = sorted((f[r].name, int(axis)) for r, axis in f["x"].attrs["REFERENCE_LIST"])
        assert users == [("/a", 0), ("/b", 0), ("/c", 0), ("/c", 1)]
