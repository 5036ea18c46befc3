//! Dense row-major `n × n` matrices over BN254's scalar field: what deriving
//! Poseidon's fast-form constants needs, and the products of `backstop-prover`'s
//! model of the on-chain permutation.

use ark_bn254::Fr;
use ark_ff::{AdditiveGroup, Field, Zero};

/// `a · b` for row-major `n × n` matrices.
pub fn mat_mul(n: usize, a: &[Fr], b: &[Fr]) -> Vec<Fr> {
    let mut out = vec![Fr::ZERO; n * n];
    for i in 0..n {
        for k in 0..n {
            let a_ik = a[i * n + k];
            for j in 0..n {
                out[i * n + j] += a_ik * b[k * n + j];
            }
        }
    }
    out
}

/// `a · x` for a row-major `n × n` matrix.
pub fn mat_vec(n: usize, a: &[Fr], x: &[Fr]) -> Vec<Fr> {
    a.chunks_exact(n)
        .map(|row| row.iter().zip(x).map(|(m, v)| *m * v).sum())
        .collect()
}

/// The inverse of a row-major `n × n` matrix (Gauss–Jordan), or `None` if singular.
pub fn mat_inverse(n: usize, a: &[Fr]) -> Option<Vec<Fr>> {
    let mut m = a.to_vec();
    let mut inv = vec![Fr::ZERO; n * n];
    for i in 0..n {
        inv[i * n + i] = Fr::ONE;
    }
    for col in 0..n {
        let pivot = (col..n).find(|&r| !m[r * n + col].is_zero())?;
        if pivot != col {
            for j in 0..n {
                m.swap(pivot * n + j, col * n + j);
                inv.swap(pivot * n + j, col * n + j);
            }
        }
        let scale = m[col * n + col].inverse()?;
        for j in 0..n {
            m[col * n + j] *= scale;
            inv[col * n + j] *= scale;
        }
        for r in (0..n).filter(|&r| r != col) {
            let factor = m[r * n + col];
            if factor.is_zero() {
                continue;
            }
            for j in 0..n {
                let (mv, iv) = (m[col * n + j], inv[col * n + j]);
                m[r * n + j] -= factor * mv;
                inv[r * n + j] -= factor * iv;
            }
        }
    }
    Some(inv)
}
