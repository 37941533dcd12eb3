//! A 2-D map of a network's penultimate-layer activations, and one number for how well its classes separate.
//!
//! The map is a principal-component projection: unlike t-SNE or UMAP it is deterministic (no random start, no
//! tuning knobs), exact and fast enough to redo every epoch. Its axes are the top two eigenvectors of the
//! activation covariance, found by subspace (power) iteration from a fixed start with a Rayleigh–Ritz step.
//! The silhouette score says in one value in -1..1 how well the classes separate in the full activation space.

/// Iteration cap of the subspace (power) iteration.
const MAX_ITERATIONS: usize = 500;
/// Convergence tolerance: eigen-residual `‖C·v − λ·v‖` relative to the covariance trace.
const TOLERANCE: f64 = 1e-10;
/// Centred rows accumulated per pass over the covariance, so that each covariance row stays in cache.
const ROW_BLOCK: usize = 32;

/// A fitted 2-D principal-component projection.
#[derive(Clone, Debug, PartialEq)]
pub struct Pca2 {
    /// Per-dimension mean of the fitted data, `dims` values.
    pub mean: Vec<f32>,
    /// Two orthogonal unit vectors, `dims` each (the second is all zeros when `dims == 1`).
    pub axes: [Vec<f32>; 2],
    /// Sample variance (divisor `rows − 1`) along each axis, in squared input units.
    pub variance: [f32; 2],
    /// Fraction of the total variance the two axes explain, 0..1.
    pub explained: f32,
}

/// Checks that `data` is a finite `rows × dims` matrix with at least `min_rows` rows.
fn check_matrix(data: &[f32], rows: usize, dims: usize, min_rows: usize) -> Result<(), String> {
    if rows < min_rows || dims == 0 || rows.checked_mul(dims) != Some(data.len()) {
        let values = data.len();
        return Err(format!("need ≥ {min_rows} rows × ≥ 1 dims; got {rows} × {dims} with {values} values"));
    }
    let non_finite = data.iter().position(|v| !v.is_finite());
    non_finite.map_or(Ok(()), |index| Err(format!("non-finite value at row {}, dim {}", index / dims, index % dims)))
}

/// `Σ term(a[i], b[i])` with four independent partial sums, so that the additions can overlap.
fn sum_pairs(a: &[f64], b: &[f64], term: impl Fn(f64, f64) -> f64) -> f64 {
    let (a_chunks, b_chunks) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(&x, &y)| term(x, y)).sum();
    let mut lanes = [0.0f64; 4];
    for (x, y) in a_chunks.zip(b_chunks) {
        lanes.iter_mut().zip(x.iter().zip(y)).for_each(|(lane, (&x, &y))| *lane += term(x, y));
    }
    lanes.iter().sum::<f64>() + tail
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    sum_pairs(a, b, |x, y| x * y)
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// Scales `v` to unit length, leaving an all-zero vector as it is.
fn normalize(v: &mut [f64]) {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Gram–Schmidt (orthogonalising twice for accuracy) on the pair; with `dims == 1` the second becomes zeros.
fn orthonormalize(pair: &mut [Vec<f64>; 2]) {
    let [first, second] = pair;
    normalize(first);
    for _ in 0..2 {
        let along = dot(second, first);
        second.iter_mut().zip(first.iter()).for_each(|(x, u)| *x -= along * u);
    }
    normalize(second);
}

impl Pca2 {
    /// Fit on `data` (row-major `rows × dims`). Err for rows < 2, dims == 0, `data.len() != rows * dims` or
    /// non-finite values. Each axis' sign is fixed so that its largest-magnitude component is positive.
    pub fn fit(data: &[f32], rows: usize, dims: usize) -> Result<Pca2, String> {
        check_matrix(data, rows, dims, 2)?;
        let mut mean = vec![0.0f64; dims];
        data.chunks_exact(dims).for_each(|row| mean.iter_mut().zip(row).for_each(|(m, &x)| *m += f64::from(x)));
        mean.iter_mut().for_each(|m| *m /= rows as f64);
        // Upper triangle of Σ (x − mean)(x − mean)ᵀ, ROW_BLOCK centred rows per pass over each covariance row.
        let mut covariance = vec![0.0f64; dims * dims];
        let mut block = vec![0.0f64; ROW_BLOCK * dims];
        for chunk in data.chunks(ROW_BLOCK * dims) {
            block.iter_mut().zip(chunk.iter().zip(mean.iter().cycle())).for_each(|(c, (&x, m))| *c = f64::from(x) - m);
            for i in 0..dims {
                let covariance_row = &mut covariance[i * dims + i..(i + 1) * dims];
                for centred in block[..chunk.len()].chunks_exact(dims) {
                    let scale = centred[i];
                    covariance_row.iter_mut().zip(&centred[i..]).for_each(|(c, &x)| *c += scale * x);
                }
            }
        }
        for (i, j) in (0..dims).flat_map(|i| (i..dims).map(move |j| (i, j))) {
            let value = covariance[i * dims + j] / (rows - 1) as f64;
            (covariance[i * dims + j], covariance[j * dims + i]) = (value, value);
        }
        let trace: f64 = covariance.iter().step_by(dims + 1).sum();
        if trace <= 0.0 {
            let axes = [0, 1].map(|axis| (0..dims).map(|i| if i == axis { 1.0 } else { 0.0 }).collect());
            return Ok(Pca2 { mean: to_f32(&mean), axes, variance: [0.0; 2], explained: 0.0 });
        }
        // Fixed start vectors ±(0.5 + frac((i + 1)·step)): unlike basis vectors or all-ones, generically not
        // orthogonal to any eigenvector.
        let start = |step: f64, sign: f64| -> Vec<f64> {
            (0..dims).map(|i| if i % 2 == 1 { sign } else { 1.0 } * (0.5 + ((i + 1) as f64 * step).fract())).collect()
        };
        let mut basis = [start(0.618_033_988_749_895, 1.0), start(0.414_213_562_373_095, -1.0)];
        orthonormalize(&mut basis);
        // Iterate on C + shift·I: same eigenvectors, but its image of a unit vector never vanishes (think rank-1
        // data), so the second vector cannot collapse to zero. The shift is taken off the eigenvalues at the end.
        let shift = 1e-9 * trace;
        covariance.iter_mut().step_by(dims + 1).for_each(|c| *c += shift);
        let mut images = [vec![0.0f64; dims], vec![0.0f64; dims]];
        let mut eigenvalues = [0.0f64; 2];
        for iteration in 0..MAX_ITERATIONS {
            let [image0, image1] = &mut images;
            for (row, (w0, w1)) in covariance.chunks_exact(dims).zip(image0.iter_mut().zip(image1.iter_mut())) {
                (*w0, *w1) = (dot(row, &basis[0]), dot(row, &basis[1]));
            }
            // Rayleigh–Ritz: diagonalise the 2×2 matrix basisᵀ·C·basis, rotating basis and images alike.
            let (a, b, d) = (dot(&basis[0], &images[0]), dot(&basis[0], &images[1]), dot(&basis[1], &images[1]));
            let (sin, cos) = (0.5 * (2.0 * b).atan2(a - d)).sin_cos();
            for [first, second] in [&mut basis, &mut images] {
                for (x, y) in first.iter_mut().zip(second.iter_mut()) {
                    (*x, *y) = (cos * *x + sin * *y, cos * *y - sin * *x);
                }
            }
            let cross = 2.0 * b * cos * sin;
            eigenvalues = [a * cos * cos + cross + d * sin * sin, a * sin * sin - cross + d * cos * cos];
            let residual = |k: usize| sum_pairs(&images[k], &basis[k], |w, v| (w - eigenvalues[k] * v).powi(2)).sqrt();
            if residual(0).max(residual(1)) <= TOLERANCE * trace || iteration + 1 == MAX_ITERATIONS {
                break;
            }
            basis.clone_from(&images);
            orthonormalize(&mut basis);
        }
        let axes = basis.map(|axis| {
            let largest = axis.iter().fold(0.0f64, |best, &x| if x.abs() > best.abs() { x } else { best });
            to_f32(&axis).into_iter().map(|x| if largest < 0.0 { -x } else { x }).collect()
        });
        let variance = eigenvalues.map(|v| (v - shift).max(0.0));
        let explained = ((variance[0] + variance[1]) / trace).clamp(0.0, 1.0) as f32;
        Ok(Pca2 { mean: to_f32(&mean), axes, variance: variance.map(|v| v as f32), explained })
    }

    /// Project rows (row-major, same `dims` as the fit) to (x, y) pairs; a trailing partial row is ignored.
    pub fn project(&self, data: &[f32]) -> Vec<[f32; 2]> {
        let dims = self.mean.len();
        if dims == 0 {
            return Vec::new();
        }
        let coordinate = |row: &[f32], axis: &[f32]| -> f32 {
            let centred = row.iter().zip(&self.mean).map(|(&x, &m)| f64::from(x) - f64::from(m));
            centred.zip(axis).map(|(c, &a)| c * f64::from(a)).sum::<f64>() as f32
        };
        data.chunks_exact(dims).map(|row| [coordinate(row, &self.axes[0]), coordinate(row, &self.axes[1])]).collect()
    }

    /// Flip each axis' sign so that it points the same way as `previous`'s (dot product ≥ 0), so consecutive
    /// epochs' maps don't mirror-jump. Does nothing when the dims differ.
    pub fn align_to(&mut self, previous: &Pca2) {
        for (axis, old) in self.axes.iter_mut().zip(&previous.axes) {
            let agreement: f64 = axis.iter().zip(old).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum();
            if self.mean.len() == previous.mean.len() && axis.len() == old.len() && agreement < 0.0 {
                axis.iter_mut().for_each(|a| *a = -*a);
            }
        }
    }
}

/// Mean silhouette score of `data` (row-major `rows × dims`) with integer `labels`, in -1..1, using Euclidean
/// distance. Points whose class has one member count 0 (the usual convention). Err for < 2 distinct labels,
/// length mismatches or non-finite values. Exact, O(rows² · dims) time, O(rows · classes) memory.
pub fn silhouette(data: &[f32], rows: usize, dims: usize, labels: &[usize]) -> Result<f32, String> {
    check_matrix(data, rows, dims, 2)?;
    if labels.len() != rows {
        return Err(format!("{} labels for {rows} rows", labels.len()));
    }
    let mut classes = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    if classes.len() < 2 {
        return Err(format!("need at least 2 distinct labels, got {}", classes.len()));
    }
    let class_count = classes.len();
    let class_of: Vec<usize> = labels.iter().map(|label| classes.binary_search(label).unwrap_or(0)).collect();
    let mut members = vec![0usize; class_count];
    class_of.iter().for_each(|&class| members[class] += 1);
    let points: Vec<f64> = data.iter().map(|&x| f64::from(x)).collect();
    // distance_sums[i * class_count + k]: sum of the distances from point i to the members of class k.
    let mut distance_sums = vec![0.0f64; rows * class_count];
    for (i, (p, &class_i)) in points.chunks_exact(dims).zip(&class_of).enumerate() {
        for (j, (q, &class_j)) in points.chunks_exact(dims).zip(&class_of).enumerate().skip(i + 1) {
            let distance = sum_pairs(p, q, |x, y| (x - y) * (x - y)).sqrt();
            distance_sums[i * class_count + class_j] += distance;
            distance_sums[j * class_count + class_i] += distance;
        }
    }
    let mut total = 0.0f64;
    for (sums, &own) in distance_sums.chunks_exact(class_count).zip(&class_of).filter(|&(_, &own)| members[own] > 1) {
        let own_mean = sums[own] / (members[own] - 1) as f64;
        let other_means =
            sums.iter().zip(&members).enumerate().filter(|&(k, _)| k != own).map(|(_, (s, &n))| s / n as f64);
        let nearest_other = other_means.fold(f64::INFINITY, f64::min);
        let spread = own_mean.max(nearest_other);
        total += if spread > 0.0 { (nearest_other - own_mean) / spread } else { 0.0 };
    }
    Ok((total / rows as f64) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic uniform numbers in 0..1 from a 64-bit LCG, so that the tests need no crates.
    fn uniform(state: &mut u64) -> f32 {
        *state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (*state >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Asserts that `actual` equals `expected` up to sign, to 1e-4 per component.
    fn assert_axis(actual: &[f32], expected: &[f32]) {
        let sign = if actual.iter().zip(expected).map(|(a, e)| a * e).sum::<f32>() < 0.0 { -1.0 } else { 1.0 };
        assert_eq!(actual.len(), expected.len());
        assert!(actual.iter().zip(expected).all(|(a, e)| (a - sign * e).abs() < 1e-4), "{actual:?} vs {expected:?}");
    }

    /// Ten points `1 + t · unit` (t = 0..9) on a line in 5-D, and the line's unit direction.
    fn line_data() -> (Vec<f32>, Vec<f32>) {
        let direction = [1.0f32, -2.0, 3.0, 0.5, -1.0];
        let length = direction.iter().map(|d| d * d).sum::<f32>().sqrt();
        let unit: Vec<f32> = direction.iter().map(|d| d / length).collect();
        ((0..10).flat_map(|t| unit.iter().map(move |u| 1.0 + t as f32 * u)).collect(), unit)
    }

    #[test]
    fn pca_matches_analytic_eigenvectors() {
        // Rows mean ± 3·u1, mean ± 2·u2, mean ± 1·u3 for an orthonormal basis u: the sample covariance (divisor 5)
        // is Σ 2·s²/5 · u·uᵀ, so its eigenpairs are (3.6, u1), (1.6, u2), (0.4, u3) and its trace is 5.6.
        let u = [[1.0f32, 2.0, 2.0], [2.0, 1.0, -2.0], [2.0, -2.0, 1.0]].map(|v| v.map(|x| x / 3.0));
        let mean = [10.0f32, -5.0, 2.0];
        let mut data = Vec::new();
        for (axis, scale) in u.iter().zip([3.0f32, 2.0, 1.0]) {
            for sign in [1.0f32, -1.0] {
                data.extend(mean.iter().zip(axis).map(|(m, a)| m + sign * scale * a));
            }
        }
        let pca = Pca2::fit(&data, 6, 3).unwrap();
        assert_axis(&pca.axes[0], &u[0]);
        assert_axis(&pca.axes[1], &u[1]);
        assert!((pca.variance[0] - 3.6).abs() < 1e-4 && (pca.variance[1] - 1.6).abs() < 1e-4, "{:?}", pca.variance);
        assert!((pca.explained - 5.2 / 5.6).abs() < 1e-5, "{}", pca.explained);
        let projected = pca.project(&[&mean[..], &data[..3]].concat());
        assert!(projected[0][0].abs() < 1e-5 && projected[0][1].abs() < 1e-5, "{projected:?}");
        assert!((projected[1][0].abs() - 3.0).abs() < 1e-4 && projected[1][1].abs() < 1e-4, "{projected:?}");
    }

    #[test]
    fn points_on_a_line_give_one_axis() {
        let (data, unit) = line_data();
        let pca = Pca2::fit(&data, 10, 5).unwrap();
        assert_axis(&pca.axes[0], &unit);
        assert!(pca.axes[0][2] > 0.0, "the largest-magnitude component is made positive: {pca:?}");
        assert!(pca.explained > 0.9999 && (pca.variance[0] - 55.0 / 6.0).abs() < 1e-3, "{pca:?}");
        let second_norm: f32 = pca.axes[1].iter().map(|a| a * a).sum();
        let overlap: f32 = pca.axes[0].iter().zip(&pca.axes[1]).map(|(a, b)| a * b).sum();
        assert!((second_norm - 1.0).abs() < 1e-5 && overlap.abs() < 1e-5, "{pca:?}");
    }

    #[test]
    fn align_to_undoes_a_sign_flip() {
        let pca = Pca2::fit(&line_data().0, 10, 5).unwrap();
        let mut flipped = pca.clone();
        flipped.axes[0].iter_mut().for_each(|a| *a = -*a);
        assert_ne!(flipped, pca);
        flipped.align_to(&pca);
        assert_eq!(flipped, pca);
        let mut other = Pca2::fit(&[0.0, 0.0, -1.0, -2.0], 2, 2).unwrap();
        other.axes = other.axes.map(|axis| axis.iter().map(|a| -a).collect());
        let before = other.clone();
        other.align_to(&pca);
        assert_eq!(other, before, "different dims must leave the axes alone");
    }

    #[test]
    fn degenerate_data_is_finite() {
        let data = [1.5f32, -2.0, 7.0].repeat(4);
        let pca = Pca2::fit(&data, 4, 3).unwrap();
        assert_eq!(pca.axes, [vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0]]);
        assert_eq!((pca.variance, pca.explained), ([0.0; 2], 0.0));
        assert!(pca.project(&data).iter().all(|p| *p == [0.0, 0.0]));
        // Variance along e0 only: C·v has no e1/e2 part, yet the second axis must still be a unit vector ⟂ e0.
        let rank_one = Pca2::fit(&[0.0, 5.0, -1.0, 1.0, 5.0, -1.0, 3.0, 5.0, -1.0], 3, 3).unwrap();
        let second_norm: f32 = rank_one.axes[1].iter().map(|a| a * a).sum();
        assert!(rank_one.axes[1][0].abs() < 1e-6 && (second_norm - 1.0).abs() < 1e-6, "{rank_one:?}");
        assert_axis(&rank_one.axes[0], &[1.0, 0.0, 0.0]);
        let one_dim = Pca2::fit(&[1.0, 2.0, 4.0], 3, 1).unwrap();
        assert_eq!(one_dim.axes, [vec![1.0], vec![0.0]]);
        assert!((one_dim.explained - 1.0).abs() < 1e-6 && (one_dim.variance[0] - 7.0 / 3.0).abs() < 1e-5);
    }

    #[test]
    fn bad_input_is_an_error() {
        let nan = f32::NAN;
        let matrices: [(&[f32], usize, usize); 6] = [
            (&[1.0, 2.0], 1, 2),
            (&[1.0; 3], 2, 2),
            (&[], 2, 0),
            (&[0.0; 4], usize::MAX, 2),
            (&[1.0, nan], 2, 1),
            (&[f32::INFINITY, 1.0], 2, 1),
        ];
        for (data, rows, dims) in matrices {
            assert!(Pca2::fit(data, rows, dims).is_err(), "{data:?} as {rows} × {dims}");
        }
        assert!(silhouette(&[0.0, 1.0, 2.0], 3, 1, &[4, 4, 4]).is_err(), "one label only");
        for (data, labels) in
            [(&[0.0, 1.0, 2.0][..], &[0, 1][..]), (&[0.0, 1.0], &[0, 1, 1]), (&[0.0, nan, 2.0], &[0, 1, 1])]
        {
            assert!(silhouette(data, 3, 1, labels).is_err(), "{data:?} with labels {labels:?}");
        }
    }

    #[test]
    fn silhouette_of_tight_separated_clusters_is_near_one() {
        let mut state = 1;
        let labels: Vec<usize> = (0..100).map(|i| i % 2).collect();
        let data: Vec<f32> =
            labels.iter().flat_map(|&c| [c as f32 * 10.0; 3]).map(|x| x + 0.1 * uniform(&mut state)).collect();
        let score = silhouette(&data, 100, 3, &labels).unwrap();
        assert!(score > 0.9, "{score}");
    }

    #[test]
    fn silhouette_matches_hand_computation() {
        // Positions 0, 1 (label 3) and 4, 6 (label 9) along x, with a constant y = 2:
        // at 0: a = 1, b = (4 + 6) / 2 = 5, s = 4/5;     at 1: a = 1, b = (3 + 5) / 2 = 4, s = 3/4;
        // at 4: a = 2, b = (4 + 3) / 2 = 3.5, s = 3/7;   at 6: a = 2, b = (6 + 5) / 2 = 5.5, s = 7/11.
        let expected = (4.0 / 5.0 + 3.0 / 4.0 + 3.0 / 7.0 + 7.0 / 11.0) / 4.0;
        let score = silhouette(&[0.0, 2.0, 1.0, 2.0, 4.0, 2.0, 6.0, 2.0], 4, 2, &[3, 3, 9, 9]).unwrap();
        assert!((f64::from(score) - expected).abs() < 1e-6, "{score} vs {expected}");
    }

    #[test]
    fn silhouette_of_random_labels_is_near_zero() {
        let mut state = 7;
        let data: Vec<f32> = (0..800).map(|_| uniform(&mut state)).collect();
        let labels: Vec<usize> = (0..400).map(|_| (uniform(&mut state) * 2.0) as usize).collect();
        let score = silhouette(&data, 400, 2, &labels).unwrap();
        assert!(score.abs() < 0.1, "{score}");
    }

    #[test]
    fn silhouette_singleton_class_counts_zero() {
        // 0 and 1 share a class, 10 and 20 are alone in theirs: b is the nearer class (10), so s = (10 − 1)/10,
        // (9 − 1)/9, 0 and 0, and the mean is (9/10 + 8/9)/4 = 161/360.
        let score = silhouette(&[0.0, 1.0, 10.0, 20.0], 4, 1, &[0, 0, 1, 2]).unwrap();
        assert!((f64::from(score) - 161.0 / 360.0).abs() < 1e-6, "{score}");
    }

    /// Prints timings; run `cargo test --release -- --nocapture timing` (debug builds use a small size).
    #[test]
    fn timing_print() {
        let shapes: &[(usize, usize)] = if cfg!(debug_assertions) { &[(200, 84)] } else { &[(2000, 84), (2000, 1024)] };
        for &(rows, dims) in shapes {
            let (mut state, labels): (u64, Vec<usize>) = (3, (0..rows).map(|i| i % 10).collect());
            let offset = |row: usize, d: usize| if d % 10 == labels[row] { 3.0 } else { 0.0 };
            let data: Vec<f32> = (0..rows * dims).map(|i| offset(i / dims, i % dims) + uniform(&mut state)).collect();
            let start = std::time::Instant::now();
            let pca = Pca2::fit(&data, rows, dims).unwrap();
            let map = pca.project(&data);
            let fit_ms = start.elapsed().as_secs_f64() * 1e3;
            let start = std::time::Instant::now();
            let score = silhouette(&data, rows, dims, &labels).unwrap();
            let silhouette_ms = start.elapsed().as_secs_f64() * 1e3;
            println!("{rows}×{dims}: fit+project {fit_ms:.1} ms, silhouette {silhouette_ms:.1} ms, s = {score:.3}");
            assert_eq!(map.len(), rows);
        }
    }
}
