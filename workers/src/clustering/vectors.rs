//! The points k-means works on: the caller's vectors, normalised, kept dense or packed sparse
//! (hashed TF-IDF rows are ~99% zeros, so a sparse dot product is ~50 times cheaper).

/// Unit vectors, one per input row. Zero rows stay zero (similar to nothing).
pub(crate) enum Points<'a> {
    /// Borrowed rows with their inverse norms, so nothing is copied.
    Dense { rows: &'a [Vec<f32>], inverse_norms: Vec<f32> },
    /// Compressed rows: `indices[offsets[i]..offsets[i + 1]]` and the same range of `values`.
    Sparse { offsets: Vec<usize>, indices: Vec<u32>, values: Vec<f32> },
}

impl<'a> Points<'a> {
    /// Packs `rows` sparse when fewer than one value in eight is non-zero.
    pub(crate) fn new(rows: &'a [Vec<f32>]) -> Self {
        let dimension = rows.first().map_or(0, Vec::len);
        let non_zero: usize = rows.iter().map(|row| row.iter().filter(|v| **v != 0.0).count()).sum();
        if non_zero * 8 < rows.len() * dimension {
            let mut offsets = Vec::with_capacity(rows.len() + 1);
            let mut indices = Vec::with_capacity(non_zero);
            let mut values = Vec::with_capacity(non_zero);
            offsets.push(0);
            for row in rows {
                let scale = inverse_norm(row);
                for (index, &value) in row.iter().enumerate() {
                    if value != 0.0 {
                        indices.push(index as u32);
                        values.push(value * scale);
                    }
                }
                offsets.push(indices.len());
            }
            Points::Sparse { offsets, indices, values }
        } else {
            Points::Dense { rows, inverse_norms: rows.iter().map(|row| inverse_norm(row)).collect() }
        }
    }

    /// Cosine similarity of point `i` and the unit vector `centroid`.
    pub(crate) fn dot(&self, i: usize, centroid: &[f32]) -> f32 {
        match self {
            Points::Dense { rows, inverse_norms } => dot(&rows[i], centroid) * inverse_norms[i],
            Points::Sparse { offsets, indices, values } => {
                let range = offsets[i]..offsets[i + 1];
                indices[range.clone()]
                    .iter()
                    .zip(&values[range])
                    .map(|(&j, &v)| v * centroid[j as usize])
                    .sum()
            }
        }
    }

    /// `scores[c] += point i · centroid c` for sparse points, `transposed` holding the
    /// centroids dimension by dimension (`scores.len()` values per dimension).
    pub(crate) fn accumulate(&self, i: usize, transposed: &[f32], scores: &mut [f32]) {
        let k = scores.len();
        match self {
            Points::Dense { rows, inverse_norms } => {
                for (j, &v) in rows[i].iter().enumerate() {
                    let scaled = v * inverse_norms[i];
                    for (s, c) in scores.iter_mut().zip(&transposed[j * k..(j + 1) * k]) {
                        *s += scaled * c;
                    }
                }
            }
            Points::Sparse { offsets, indices, values } => {
                let range = offsets[i]..offsets[i + 1];
                for (&j, &v) in indices[range.clone()].iter().zip(&values[range]) {
                    let j = j as usize;
                    for (s, c) in scores.iter_mut().zip(&transposed[j * k..(j + 1) * k]) {
                        *s += v * c;
                    }
                }
            }
        }
    }

    /// `target += point i` (normalised).
    pub(crate) fn add_to(&self, i: usize, target: &mut [f32]) {
        match self {
            Points::Dense { rows, inverse_norms } => {
                let scale = inverse_norms[i];
                for (t, v) in target.iter_mut().zip(&rows[i]) {
                    *t += v * scale;
                }
            }
            Points::Sparse { offsets, indices, values } => {
                let range = offsets[i]..offsets[i + 1];
                for (&j, &v) in indices[range.clone()].iter().zip(&values[range]) {
                    target[j as usize] += v;
                }
            }
        }
    }

    /// Point `i` as a dense unit vector of `dimension` values.
    pub(crate) fn to_dense(&self, i: usize, dimension: usize) -> Vec<f32> {
        let mut vector = vec![0.0; dimension];
        self.add_to(i, &mut vector);
        vector
    }
}

/// Dot product with eight independent accumulators, so the compiler vectorises it.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0.0f32; 8];
    let chunks_a = a.chunks_exact(8);
    let chunks_b = b.chunks_exact(8);
    let tail: f32 = chunks_a.remainder().iter().zip(chunks_b.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in chunks_a.zip(chunks_b) {
        for lane in 0..8 {
            sums[lane] += x[lane] * y[lane];
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// Scales `vector` to unit length in place (a zero vector stays zero).
pub(crate) fn normalise(vector: &mut [f32]) {
    let scale = inverse_norm(vector);
    for v in vector.iter_mut() {
        *v *= scale;
    }
}

fn inverse_norm(vector: &[f32]) -> f32 {
    let norm = dot(vector, vector).sqrt();
    if norm > 0.0 { 1.0 / norm } else { 0.0 }
}
