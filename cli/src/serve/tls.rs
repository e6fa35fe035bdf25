//! `--tls-cert` / `--tls-key`: the rustls configuration the connection loop serves HTTPS with.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::CliError;

/// A server configuration from a PEM certificate chain and its PEM private key (PKCS#8, PKCS#1
/// or SEC1), offering HTTP/1.1 over TLS 1.2 and 1.3.
///
/// # Errors
/// [`CliError::Tls`] naming the file that cannot be read or used; never the key's content.
pub(crate) fn server_config(
    cert: &Path,
    key: &Path,
) -> Result<Arc<rustls::ServerConfig>, CliError> {
    let failed = |path: &Path, why: String| CliError::Tls(format!("{}: {why}", path.display()));
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| failed(cert, format!("cannot read a PEM certificate: {e}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| failed(cert, format!("cannot read a PEM certificate: {e}")))?;
    if chain.is_empty() {
        return Err(failed(cert, "contains no PEM certificate".to_owned()));
    }
    let private_key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| failed(key, format!("cannot read a PEM private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CliError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| {
            CliError::Tls(format!(
                "{} and {} do not make a usable certificate and key: {e}",
                cert.display(),
                key.display()
            ))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
