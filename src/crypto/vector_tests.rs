//! Third-party known-answer tests run through lwsec's crypto boundary, for
//! every provider compiled in
//! (`dh::x25519`, `aead::{seal, open}`, `hash::{hkdf, hkdf_extract,
//! hkdf_expand}`): Wycheproof X25519, AES-GCM, ChaCha20-Poly1305 and
//! HKDF-SHA256, and the RFC 7748, RFC 8439 and RFC 5869 examples.
//! Files: `test-vectors/third_party/{wycheproof,rfc}/`.
//!
//! Every test counts the cases it ran and asserts the count, so a renamed
//! field or an emptied file cannot make it pass vacuously.

use serde_json::Value;

use crate::crypto::aead::{KEY_LEN, NONCE_LEN, open, seal};
use crate::crypto::hash::hkdf;
use crate::crypto::{CryptoProvider, providers};
use crate::error::Error;
use crate::suite::Suite;
use crate::vector_files::{array, bytes, load};

fn has_flag(test: &Value, flag: &str) -> bool {
    test["flags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f.as_str() == Some(flag))
}

/// `(group, test)` pairs of a Wycheproof file.
fn wycheproof_tests(doc: &Value) -> Vec<(&Value, &Value)> {
    let groups = doc["testGroups"].as_array().unwrap();
    let tests: Vec<_> = groups
        .iter()
        .flat_map(|g| g["tests"].as_array().unwrap().iter().map(move |t| (g, t)))
        .collect();
    assert_eq!(
        tests.len() as u64,
        doc["numberOfTests"].as_u64().unwrap(),
        "numberOfTests"
    );
    tests
}

fn label(test: &Value) -> String {
    format!("tcId {} ({})", test["tcId"], test["comment"])
}

// ----- X25519 -----

#[test]
fn wycheproof_x25519() {
    for p in providers() {
        wycheproof_x25519_with(p);
    }
}

fn wycheproof_x25519_with(p: &'static CryptoProvider) {
    let doc = load("wycheproof/x25519_test.json");
    let (mut valid, mut acceptable, mut zero_shared) = (0, 0, 0);
    for (group, test) in wycheproof_tests(&doc) {
        assert_eq!(group["curve"], "curve25519");
        let result = x25519(p, array(test, "private"), array(test, "public"));
        let shared: [u8; 32] = array(test, "shared");
        if has_flag(test, "ZeroSharedSecret") {
            // RFC 7748 allows all-zero outputs; lwsec's design rejects them.
            assert_eq!(shared, [0u8; 32], "{}", label(test));
            assert_eq!(result, Err(Error::LowOrderPoint), "{}", label(test));
            zero_shared += 1;
            continue;
        }
        assert_ne!(shared, [0u8; 32], "{}: zero without flag", label(test));
        assert_eq!(result, Ok(shared), "{}", label(test));
        match test["result"].as_str().unwrap() {
            "valid" => valid += 1,
            "acceptable" => acceptable += 1,
            other => panic!("{}: unexpected result {other}", label(test)),
        }
    }
    assert_eq!((valid, acceptable, zero_shared), (264, 223, 31));
}

#[test]
fn rfc7748_x25519_vectors() {
    for p in providers() {
        rfc7748_x25519_vectors_with(p);
    }
}

fn rfc7748_x25519_vectors_with(p: &'static CryptoProvider) {
    let doc = load("rfc/rfc7748_x25519.json");
    let mut run = 0;
    // Section 5.2: two scalar multiplications (the second with bit 255 set in u).
    for v in doc["x25519"].as_array().unwrap() {
        let out = x25519(p, array(v, "scalar"), array(v, "u")).unwrap();
        assert_eq!(
            hex::encode(out),
            v["output"].as_str().unwrap(),
            "id {}",
            v["id"]
        );
        run += 1;
    }
    // Section 5.2, iterated: checkpoints at 1 and 1000 (1,000,000 is too slow
    // for a unit test and is skipped by design).
    let iterated = &doc["x25519_iterated"];
    let mut k: [u8; 32] = array(iterated, "initial_k");
    let mut u: [u8; 32] = array(iterated, "initial_u");
    let mut done = 0u64;
    for checkpoint in iterated["checkpoints"].as_array().unwrap() {
        let target = checkpoint["iterations"].as_u64().unwrap();
        if target > 1000 {
            continue;
        }
        while done < target {
            let next = x25519(p, k, u).unwrap();
            u = k;
            k = next;
            done += 1;
        }
        assert_eq!(
            hex::encode(k),
            checkpoint["k"].as_str().unwrap(),
            "{target} iterations"
        );
        run += 1;
    }
    // Section 6.1: both public keys and the shared secret from both sides.
    for v in doc["x25519_dh"].as_array().unwrap() {
        let mut base = [0u8; 32];
        base[0] = 9;
        let alice_private = array(v, "alice_private");
        let bob_private = array(v, "bob_private");
        let alice_public: [u8; 32] = array(v, "alice_public");
        let bob_public: [u8; 32] = array(v, "bob_public");
        assert_eq!(x25519(p, alice_private, base), Ok(alice_public));
        assert_eq!(x25519(p, bob_private, base), Ok(bob_public));
        let shared: [u8; 32] = array(v, "shared");
        assert_eq!(x25519(p, alice_private, bob_public), Ok(shared));
        assert_eq!(x25519(p, bob_private, alice_public), Ok(shared));
        run += 1;
    }
    assert_eq!(run, 2 + 2 + 1);
}

// ----- AEAD -----

/// Runs the 96-bit-nonce, 128-bit-tag, 256-bit-key groups of a Wycheproof
/// AEAD file through `seal`/`open`. Returns (valid, invalid, skipped), where
/// `skip` decides which other groups are expected and skipped.
fn wycheproof_aead(
    p: &'static CryptoProvider,
    file: &str,
    suite: Suite,
    skip: impl Fn(&Value, &Value) -> bool,
) -> (usize, usize, usize) {
    let doc = load(file);
    let (mut valid, mut invalid, mut skipped) = (0, 0, 0);
    for (group, test) in wycheproof_tests(&doc) {
        let sizes = (
            group["keySize"].as_u64(),
            group["ivSize"].as_u64(),
            group["tagSize"].as_u64(),
        );
        if sizes != (Some(256), Some(96), Some(128)) {
            assert!(
                skip(group, test),
                "{}: unexpected group {sizes:?}",
                label(test)
            );
            skipped += 1;
            continue;
        }
        let key: [u8; KEY_LEN] = array(test, "key");
        let nonce: [u8; NONCE_LEN] = array(test, "iv");
        let (aad, msg) = (bytes(test, "aad"), bytes(test, "msg"));
        let mut sealed = bytes(test, "ct");
        sealed.extend_from_slice(&bytes(test, "tag"));
        let opened = open(p, suite, &key, &nonce, &aad, &sealed);
        match test["result"].as_str().unwrap() {
            "valid" => {
                let ours = seal(p, suite, &key, &nonce, &aad, &msg).unwrap();
                assert_eq!(hex::encode(ours), hex::encode(&sealed), "{}", label(test));
                assert_eq!(opened, Ok(msg), "{}", label(test));
                valid += 1;
            }
            "invalid" => {
                assert_eq!(opened, Err(Error::BadRecordMac), "{}", label(test));
                invalid += 1;
            }
            other => panic!("{}: unexpected result {other}", label(test)),
        }
    }
    (valid, invalid, skipped)
}

#[test]
fn wycheproof_aes_256_gcm() {
    for p in providers() {
        wycheproof_aes_256_gcm_with(p);
    }
}

fn wycheproof_aes_256_gcm_with(p: &'static CryptoProvider) {
    // Only 256-bit keys and 96-bit IVs apply to lwsec: 128/192-bit keys and
    // other IV sizes (250 tests) are skipped.
    let counts = wycheproof_aead(
        p,
        "wycheproof/aes_gcm_test.json",
        Suite::Aes256Gcm,
        |g, _| g["keySize"] != 256 || g["ivSize"] != 96,
    );
    assert_eq!(counts, (39, 27, 250));
}

#[test]
fn wycheproof_chacha20_poly1305() {
    for p in providers() {
        wycheproof_chacha20_poly1305_with(p);
    }
}

fn wycheproof_chacha20_poly1305_with(p: &'static CryptoProvider) {
    // The 9 tests with another nonce size cannot be expressed with [u8; 12].
    let counts = wycheproof_aead(
        p,
        "wycheproof/chacha20_poly1305_test.json",
        Suite::ChaCha20Poly1305,
        |_, t| has_flag(t, "InvalidNonceSize") && t["result"] == "invalid",
    );
    assert_eq!(counts, (256, 60, 9));
}

#[test]
fn rfc8439_chacha20_poly1305_aead() {
    for p in providers() {
        rfc8439_chacha20_poly1305_aead_with(p);
    }
}

fn rfc8439_chacha20_poly1305_aead_with(p: &'static CryptoProvider) {
    let doc = load("rfc/rfc8439_chacha20_poly1305.json");
    let mut run = 0;
    for v in doc["tests"].as_array().unwrap() {
        let key: [u8; KEY_LEN] = array(v, "key");
        let nonce: [u8; NONCE_LEN] = array(v, "nonce");
        let mut expected_nonce = bytes(v, "fixed_common_part");
        expected_nonce.extend_from_slice(&bytes(v, "iv"));
        assert_eq!(nonce.to_vec(), expected_nonce);
        let (aad, plaintext) = (bytes(v, "aad"), bytes(v, "plaintext"));
        let mut expected = bytes(v, "ciphertext");
        expected.extend_from_slice(&bytes(v, "tag"));
        let sealed = seal(p, Suite::ChaCha20Poly1305, &key, &nonce, &aad, &plaintext).unwrap();
        assert_eq!(hex::encode(&sealed), hex::encode(&expected));
        let opened = open(p, Suite::ChaCha20Poly1305, &key, &nonce, &aad, &sealed);
        assert_eq!(opened, Ok(plaintext));
        // A modified AAD must not authenticate.
        let mut bad_aad = aad.clone();
        bad_aad[0] ^= 1;
        let opened = open(p, Suite::ChaCha20Poly1305, &key, &nonce, &bad_aad, &sealed);
        assert_eq!(opened, Err(Error::BadRecordMac));
        run += 1;
    }
    assert_eq!(run, 1);
}

// ----- HKDF -----

#[test]
fn wycheproof_hkdf_sha256() {
    for p in providers() {
        wycheproof_hkdf_sha256_with(p);
    }
}

fn wycheproof_hkdf_sha256_with(p: &'static CryptoProvider) {
    let doc = load("wycheproof/hkdf_sha256_test.json");
    let (mut valid, mut too_large) = (0, 0);
    for (_, test) in wycheproof_tests(&doc) {
        let size = usize::try_from(test["size"].as_u64().unwrap()).unwrap();
        let mut okm = vec![0u8; size];
        let result = hkdf(
            p,
            &bytes(test, "salt"),
            &bytes(test, "ikm"),
            &bytes(test, "info"),
            &mut okm,
        );
        match test["result"].as_str().unwrap() {
            "valid" => {
                assert_eq!(result, Ok(()), "{}", label(test));
                assert_eq!(
                    hex::encode(&okm),
                    test["okm"].as_str().unwrap(),
                    "{}",
                    label(test)
                );
                valid += 1;
            }
            "invalid" => {
                assert!(has_flag(test, "SizeTooLarge"), "{}", label(test));
                assert!(result.is_err(), "{}", label(test));
                too_large += 1;
            }
            other => panic!("{}: unexpected result {other}", label(test)),
        }
    }
    assert_eq!((valid, too_large), (83, 3));
}

#[test]
fn rfc5869_hkdf_sha256() {
    for p in providers() {
        rfc5869_hkdf_sha256_with(p);
    }
}

fn rfc5869_hkdf_sha256_with(p: &'static CryptoProvider) {
    let doc = load("rfc/rfc5869_hkdf_sha256.json");
    let mut sections = Vec::new();
    for v in doc["tests"].as_array().unwrap() {
        let (ikm, salt, info) = (bytes(v, "ikm"), bytes(v, "salt"), bytes(v, "info"));
        let length = usize::try_from(v["length"].as_u64().unwrap()).unwrap();
        let prk = p.hash.hkdf_extract(&salt, &ikm);
        assert_eq!(hex::encode(prk.as_ref()), v["prk"].as_str().unwrap());
        let mut okm = vec![0u8; length];
        p.hash.hkdf_expand(&prk, &info, &mut okm).unwrap();
        assert_eq!(hex::encode(&okm), v["okm"].as_str().unwrap());
        let mut okm2 = vec![0u8; length];
        hkdf(p, &salt, &ikm, &info, &mut okm2).unwrap();
        assert_eq!(okm, okm2);
        sections.push(v["section"].as_str().unwrap().to_owned());
    }
    assert_eq!(sections, ["A.1", "A.2", "A.3"]);
}

/// X25519 through a provider's boundary.
fn x25519(p: &CryptoProvider, private: [u8; 32], public: [u8; 32]) -> Result<[u8; 32], Error> {
    p.kx.private_key(&private)?.agree(&public).map(|k| *k)
}
