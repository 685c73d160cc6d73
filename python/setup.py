"""setuptools hooks for the rustvol package (the metadata is in pyproject.toml).

A checkout's python/ is pure Python.  scripts/build-wheel.sh copies librustvol.so into
rustvol/plugin/ of a staging copy first; such a wheel carries a native library that does not
depend on the Python version or ABI (it is an HDF5 plugin, never imported by Python), so it is
tagged py3-none-<platform> instead of pure (py3-none-any) or CPython-specific.
"""
import os

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
HAS_PLUGIN = os.path.isfile(os.path.join(HERE, "rustvol", "plugin", "librustvol.so"))


class plugin_bdist_wheel(bdist_wheel):
    def finalize_options(self):
        super().finalize_options()
        if HAS_PLUGIN:
            self.root_is_pure = False

    def get_tag(self):
        python, abi, plat = super().get_tag()
        if HAS_PLUGIN:
            return "py3", "none", os.environ.get("RUSTVOL_WHEEL_PLAT") or plat
        return python, abi, plat


class PluginDistribution(Distribution):
    # a library that is not an extension module: installed as platform-specific (platlib)
    def has_ext_modules(self):
        return HAS_PLUGIN


setup(
    packages=["rustvol"] + (["rustvol.plugin"] if HAS_PLUGIN else []),
    package_data={"rustvol.plugin": ["librustvol.so"]} if HAS_PLUGIN else {},
    distclass=PluginDistribution,
    cmdclass={"bdist_wheel": plugin_bdist_wheel},
)
