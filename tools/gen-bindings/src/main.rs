//! Regenerates `src/ffi/vol_bindings.rs` from `$HDF5_DIR/include/H5VLconnector.h`.
//! Run by `scripts/gen-bindings.sh`; the output is committed so that users need no libclang.
use std::{env, path::PathBuf};

fn main() {
    let hdf5_dir = PathBuf::from(env::var("HDF5_DIR").expect("HDF5_DIR must name an HDF5 >= 1.14 prefix"));
    let out = PathBuf::from(env::args().nth(1).expect("usage: rustvol-gen-bindings OUT.rs"));
    let include = hdf5_dir.join("include");
    let bindings = bindgen::Builder::default()
        .header_contents("wrapper.h", "#include <hdf5.h>\n#include <H5VLconnector.h>\n#include <H5VLnative.h>\n")
        .clang_arg(format!("-I{}", include.display()))
        .allowlist_type("H5VL_.*")
        .allowlist_function("H5VL(wrap_register|object|get_file_type|peek_connector_id_by_name|retrieve_lib_state|free_lib_state)")
        .allowlist_var("H5VL_.*")
        .allowlist_var("H5O_TOKEN_UNDEF_g")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .derive_default(true)
        .layout_tests(true)
        .generate_comments(false)
        .raw_line("#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals, dead_code, clippy::all)]")
        .generate()
        .expect("bindgen failed");
    bindings.write_to_file(&out).expect("cannot write bindings");
}
