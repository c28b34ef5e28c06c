//! A one-layer OCI image layout built here, so tests need no outside registry.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn blob(dir: &Path, bytes: &[u8]) -> (String, usize) {
    let digest = format!("{:x}", Sha256::digest(bytes));
    std::fs::write(dir.join("blobs/sha256").join(&digest), bytes).expect("write blob");
    (digest, bytes.len())
}

/// Writes an OCI layout with tag `v1` (linux/amd64, one uncompressed layer with `hello.txt`)
/// into `dir` and returns `dir`.
pub fn build_layout(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("blobs/sha256")).expect("mkdir layout");
    let mut layer = tar::Builder::new(Vec::new());
    let content = b"hello from the credential helper tests\n";
    let mut header = tar::Header::new_ustar();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(1_577_836_800);
    header.set_cksum();
    layer
        .append_data(&mut header, "hello.txt", &content[..])
        .expect("tar");
    let layer = layer.into_inner().expect("tar");
    let (layer_digest, layer_size) = blob(dir, &layer);
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Cmd":["/hello.txt"]}},"rootfs":{{"type":"layers","diff_ids":["sha256:{layer_digest}"]}}}}"#
    );
    let (config_digest, config_size) = blob(dir, config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{config_digest}","size":{config_size}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:{layer_digest}","size":{layer_size}}}]}}"#
    );
    let (manifest_digest, manifest_size) = blob(dir, manifest.as_bytes());
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("write");
    std::fs::write(
        dir.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{manifest_digest}","size":{manifest_size},"annotations":{{"org.opencontainers.image.ref.name":"v1"}}}}]}}"#
        ),
    )
    .expect("write index");
    dir.to_path_buf()
}
