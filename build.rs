//! The plugin links no libhdf5 (`src/ffi/h5api.rs` binds to the one that loads it): hdf5-sys
//! still names libhdf5 on the link line, for its types' sake, and `--as-needed` drops it from
//! the plugin, which references none of its symbols (`tests/so_check.sh` checks it). With the
//! `mpi` feature, also compiles the MPI shim (src/ffi/mpi_shim.c) with mpicc.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,--as-needed");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,librustvol.so");
    #[cfg(feature = "mpi")]
    mpi_shim();
}

/// The shim is built by the MPI the application uses (its mpicc), so MPI_Comm means the same
/// on both sides; libmpi is linked by name from mpicc's own link line.
#[cfg(feature = "mpi")]
fn mpi_shim() {
    println!("cargo:rerun-if-changed=src/ffi/mpi_shim.c");
    println!("cargo:rerun-if-env-changed=MPICC");
    let mpicc = std::env::var("MPICC").unwrap_or_else(|_| "mpicc".into());
    let dir = std::env::var("HDF5_DIR").expect("the mpi feature needs HDF5_DIR to name a parallel HDF5");
    cc::Build::new().compiler(&mpicc).include(format!("{dir}/include")).file("src/ffi/mpi_shim.c").compile("rustvol_mpi_shim");
    // OpenMPI answers --showme:link, MPICH -link_info (whose first word is the compiler).
    let link = ["--showme:link", "-link_info"]
        .iter()
        .filter_map(|flag| std::process::Command::new(&mpicc).arg(flag).output().ok().filter(|o| o.status.success()))
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .next()
        .unwrap_or_else(|| panic!("{mpicc} gave no link line (--showme:link, -link_info)"));
    for w in link.split_whitespace() {
        if let Some(d) = w.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={d}");
        } else if let Some(l) = w.strip_prefix("-l") {
            println!("cargo:rustc-link-lib={l}");
        } else if let Some(d) = w.strip_prefix("-Wl,-rpath,") {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-rpath,{d}");
        }
    }
}
