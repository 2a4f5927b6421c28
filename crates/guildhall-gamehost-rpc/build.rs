//! Compiles `proto/gamehost.proto` with protox (pure Rust: no `protoc` on the build
//! machine) and generates the messages, client and server with tonic-prost-build.

const PROTO: &str = "proto/gamehost.proto";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO}");
    let descriptors = protox::compile([PROTO], ["proto"])?;
    tonic_prost_build::configure()
        // `Bytes` fields are slices of the received buffer, not copies.
        .bytes(".")
        // Exact round trips of xlogfile fields, in their order.
        .btree_map(".")
        .compile_fds(descriptors)?;
    Ok(())
}
