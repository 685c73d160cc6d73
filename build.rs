//! Links the plugin to the HDF5 named by HDF5_DIR with an rpath, so a host that loads the
//! plugin finds that same libhdf5 (a second copy of HDF5 in one process breaks every id).
fn main() {
    println!("cargo:rerun-if-env-changed=HDF5_DIR");
    if let Ok(dir) = std::env::var("HDF5_DIR") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-rpath,{dir}/lib");
    }
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,librustvol.so");
}
