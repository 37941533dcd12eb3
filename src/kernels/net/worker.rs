//! One core's share of a training step: its images through every layer, the loss, and back, in buffers it keeps
//! from step to step (they only grow, so after the first step of a batch size nothing is allocated).

use super::layer::Layer;
use crate::kernels::conv::{backward_range, per_image_dw, sized, BwdScratch};
use crate::kernels::fused::Activation;
use crate::kernels::fused::{act_grad, activate, conv_act_image, pool_image, pre_act_grad};
use crate::kernels::gemm::sgemm;
use crate::kernels::geom::Geom;
use crate::kernels::im2col::{im2col, im2col_ld};
use crate::kernels::loss::log_sum_exp;

pub(super) struct Worker {
    /// Per layer: its output for this worker's images.
    outs: Vec<Vec<f32>>,
    /// Per layer: a pooled convolution's activations before pooling (unused by other layers).
    pre_pool: Vec<Vec<f32>>,
    /// Per layer: a convolution's im2col of every image, where its backward pass reads it image by image.
    saved_cols: Vec<Vec<f32>>,
    /// Per layer with parameters (empty for the others): `[weight gradient | bias gradient]`.
    dwb: Vec<Vec<f32>>,
    /// The gradient w.r.t. the current layer's output, and w.r.t. its input (swapped after each layer).
    g_out: Vec<f32>,
    g_in: Vec<f32>,
    /// This worker's images, `[m, input_len]`.
    x: Vec<f32>,
    /// The im2col of one image or of a tile of images, and a tile's convolution output.
    cols: Vec<f32>,
    tile: Vec<f32>,
    bwd: BwdScratch,
    /// Summed cross-entropy of this worker's images.
    pub loss: f64,
    pub correct: usize,
}

impl Worker {
    pub fn new(layers: &[Layer]) -> Self {
        Worker {
            outs: vec![Vec::new(); layers.len()],
            pre_pool: vec![Vec::new(); layers.len()],
            saved_cols: vec![Vec::new(); layers.len()],
            dwb: layers.iter().map(|l| vec![0.0; l.param_lens().map_or(0, |(w, b)| w + b)]).collect(),
            g_out: Vec::new(),
            g_in: Vec::new(),
            x: Vec::new(),
            cols: Vec::new(),
            tile: Vec::new(),
            bwd: BwdScratch::default(),
            loss: 0.0,
            correct: 0,
        }
    }

    /// The buffer of this worker's images (`len` values) for the caller to fill before [`Worker::run`].
    pub fn input(&mut self, len: usize) -> &mut [f32] {
        sized(&mut self.x, len)
    }

    /// Forward and backward for this worker's images (in [`Worker::input`]), with `labels`, the dropout `masks`
    /// of these images, and `n_total` the whole batch's size (the loss is a mean over the batch).
    pub fn run(
        &mut self,
        layers: &[Layer],
        classes: usize,
        params: &[&[f32]],
        labels: &[u32],
        masks: &[&[f32]],
        n_total: usize,
    ) {
        let m = labels.len();
        self.loss = 0.0;
        self.correct = 0;
        if m == 0 {
            self.dwb.iter_mut().for_each(|d| d.fill(0.0));
            return;
        }
        // Where each layer's weight stands in `params`, and which mask a dropout layer uses.
        let mut param_at = Vec::with_capacity(layers.len());
        let mut mask_at = Vec::with_capacity(layers.len());
        let (mut p, mut d) = (0, 0);
        for l in layers {
            param_at.push(p);
            mask_at.push(d);
            p += if l.param_lens().is_some() { 2 } else { 0 };
            d += usize::from(matches!(l, Layer::Dropout { .. }));
        }
        let x = std::mem::take(&mut self.x);
        let input_len = layers.first().map_or(classes, Layer::input_len);
        let x_m = &x[..m * input_len];
        self.forward(layers, params, x_m, masks, m, (&param_at, &mask_at), true);
        self.loss_grad(layers, classes, x_m, labels, n_total);
        self.backward(layers, params, x_m, masks, m, &param_at, &mask_at);
        self.x = x;
    }

    /// The forward pass alone for this worker's `m` images (in [`Worker::input`]), their logits into `logits`.
    pub fn infer(&mut self, layers: &[Layer], classes: usize, params: &[&[f32]], m: usize, logits: &mut [f32]) {
        let mut param_at = Vec::with_capacity(layers.len());
        let mut p = 0;
        for l in layers {
            param_at.push(p);
            p += if l.param_lens().is_some() { 2 } else { 0 };
        }
        let x = std::mem::take(&mut self.x);
        let input_len = layers.first().map_or(classes, Layer::input_len);
        let no_masks = vec![0; layers.len()];
        self.forward(layers, params, &x[..m * input_len], &[], m, (&param_at, &no_masks), false);
        match self.outs.last() {
            Some(out) if !layers.is_empty() => logits.copy_from_slice(&out[..m * classes]),
            _ => logits.copy_from_slice(&x[..m * classes]),
        }
        self.x = x;
    }

    /// The forward pass; `(param_at, mask_at)`: where each layer's weight stands in `params` and which mask a
    /// dropout layer uses; `training`: keep what the backward pass reads again.
    #[allow(clippy::too_many_arguments)]
    fn forward(
        &mut self,
        layers: &[Layer],
        params: &[&[f32]],
        x: &[f32],
        masks: &[&[f32]],
        m: usize,
        (param_at, mask_at): (&[usize], &[usize]),
        training: bool,
    ) {
        for (l, layer) in layers.iter().enumerate() {
            let (done, rest) = self.outs.split_at_mut(l);
            let input: &[f32] = if l == 0 { x } else { &done[l - 1][..m * layer.input_len()] };
            let out = sized(&mut rest[0], m * layer.output_len());
            match *layer {
                Layer::Conv { act, pool, .. } => {
                    let g = layer.geom(m);
                    let (w, b) = (params[param_at[l]], params[param_at[l] + 1]);
                    let (in_img, out_img, y_img) = (g.in_img(), g.out_img(), layer.output_len());
                    let pre = match pool {
                        Some(_) => sized(&mut self.pre_pool[l], m * out_img),
                        None => &mut out[..],
                    };
                    if g.o < 16 {
                        // Few output channels: one image per gemm, the plane along its vector dimension. Where the
                        // backward pass goes image by image too, it reads these columns again: they are kept.
                        let cols_img = g.ckk() * g.plane();
                        let keep = training && per_image_dw(&g);
                        let cols = if keep {
                            sized(&mut self.saved_cols[l], m * cols_img)
                        } else {
                            sized(&mut self.cols, cols_img)
                        };
                        for (i, a) in pre.chunks_exact_mut(out_img).enumerate() {
                            let c = if keep { &mut cols[i * cols_img..(i + 1) * cols_img] } else { &mut cols[..] };
                            im2col(&g, &input[i * in_img..(i + 1) * in_img], c);
                            conv_act_image(&g, act, w, b, c, a);
                        }
                    } else {
                        conv_tiles(&g, act, w, b, input, pre, &mut self.cols, &mut self.tile);
                    }
                    if let Some(pool) = pool {
                        let pre = &self.pre_pool[l][..m * out_img];
                        for (a, y) in pre.chunks_exact(out_img).zip(out.chunks_exact_mut(y_img)) {
                            pool_image(&g, pool, a, y);
                        }
                    }
                }
                Layer::Dense { inputs: k, outputs: o, act } => {
                    let (w, b) = (params[param_at[l]], params[param_at[l] + 1]);
                    for row in out.chunks_exact_mut(o) {
                        row.copy_from_slice(b);
                    }
                    // out[m, o] += x[m, k] · wᵀ, wᵀ read in place.
                    sgemm(m, o, k, out, (1, o), true, input, (1, k), w, (k, 1));
                    activate(act, out);
                }
                Layer::Act { act, .. } => {
                    out.copy_from_slice(input);
                    activate(act, out);
                }
                Layer::Pool { pool, .. } => {
                    let g = layer.geom(m);
                    let (in_img, y_img) = (layer.input_len(), layer.output_len());
                    for (a, y) in input.chunks_exact(in_img).zip(out.chunks_exact_mut(y_img)) {
                        pool_image(&g, pool, a, y);
                    }
                }
                Layer::Dropout { .. } => {
                    for ((o, &v), &k) in out.iter_mut().zip(input).zip(masks[mask_at[l]]) {
                        *o = v * k;
                    }
                }
            }
        }
    }

    /// The loss of the logits and its gradient into `g_out`: `(softmax − one-hot) / n_total` per image.
    fn loss_grad(&mut self, layers: &[Layer], classes: usize, x: &[f32], labels: &[u32], n_total: usize) {
        let m = labels.len();
        let logits: &[f32] = match self.outs.last() {
            Some(out) if !layers.is_empty() => &out[..m * classes],
            _ => &x[..m * classes],
        };
        let grad = sized(&mut self.g_out, m * classes);
        let inv_n = 1.0 / n_total as f32;
        for ((row, g), &label) in logits.chunks_exact(classes).zip(grad.chunks_exact_mut(classes)).zip(labels) {
            let label = label as usize;
            let (max, lse) = log_sum_exp(row);
            self.loss += (lse - (row[label] - max)) as f64;
            // Ties go to the first maximum and a NaN never wins, as the engine's argmax.
            let best = row.iter().enumerate().fold(0, |best, (i, &z)| if z > row[best] { i } else { best });
            self.correct += usize::from(best == label);
            for (g, &z) in g.iter_mut().zip(row) {
                *g = (z - max - lse).exp() * inv_n;
            }
            g[label] -= inv_n;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn backward(
        &mut self,
        layers: &[Layer],
        params: &[&[f32]],
        x: &[f32],
        masks: &[&[f32]],
        m: usize,
        param_at: &[usize],
        mask_at: &[usize],
    ) {
        let Worker { outs, pre_pool, saved_cols, dwb, g_out, g_in, bwd, .. } = self;
        for (l, layer) in layers.iter().enumerate().rev() {
            let (in_len, out_len) = (layer.input_len(), layer.output_len());
            let input: &[f32] = if l == 0 { x } else { &outs[l - 1][..m * in_len] };
            let out = &outs[l][..m * out_len];
            let go = &mut g_out[..m * out_len];
            // The image needs no gradient.
            let gi = (l > 0).then(|| sized(g_in, m * in_len));
            match *layer {
                Layer::Conv { act, pool, .. } => {
                    let g = layer.geom(m);
                    let w = params[param_at[l]];
                    let out_img = g.out_img();
                    let (pre, go) = (&pre_pool[l], &*go);
                    let make_gy = |i: usize, gz: &mut [f32]| match pool {
                        Some(pool) => pre_act_grad(
                            &g,
                            act,
                            pool,
                            &pre[i * out_img..(i + 1) * out_img],
                            &go[i * out_len..(i + 1) * out_len],
                            gz,
                        ),
                        None => {
                            let (a, ga) = (&out[i * out_img..(i + 1) * out_img], &go[i * out_img..(i + 1) * out_img]);
                            for ((z, &a), &gv) in gz.iter_mut().zip(a).zip(ga) {
                                *z = gv * act_grad(act, a);
                            }
                        }
                    };
                    let saved = per_image_dw(&g).then(|| &saved_cols[l][..]);
                    backward_range(&g, input, w, 0..m, gi, &make_gy, &mut dwb[l], bwd, saved);
                }
                Layer::Dense { inputs: k, outputs: o, act } => {
                    if act != Activation::Identity {
                        for (g, &a) in go.iter_mut().zip(out) {
                            *g *= act_grad(act, a);
                        }
                    }
                    let w = params[param_at[l]];
                    let (dw, db) = dwb[l].split_at_mut(o * k);
                    // dw[o, k] = goᵀ[o, m] · x[m, k].
                    sgemm(o, k, m, dw, (1, k), false, go, (o, 1), input, (1, k));
                    db.copy_from_slice(&go[..o]);
                    for row in go.chunks_exact(o).skip(1) {
                        db.iter_mut().zip(row).for_each(|(d, &g)| *d += g);
                    }
                    if let Some(gi) = gi {
                        // gi[m, k] = go[m, o] · w[o, k].
                        sgemm(m, k, o, gi, (1, k), false, go, (1, o), w, (1, k));
                    }
                }
                Layer::Act { act, .. } => {
                    if let Some(gi) = gi {
                        for ((d, &g), &a) in gi.iter_mut().zip(&*go).zip(out) {
                            *d = g * act_grad(act, a);
                        }
                    }
                }
                Layer::Pool { pool, .. } => {
                    if let Some(gi) = gi {
                        let g = layer.geom(m);
                        let chunks =
                            input.chunks_exact(in_len).zip(go.chunks_exact(out_len)).zip(gi.chunks_exact_mut(in_len));
                        for ((a, gp), d) in chunks {
                            pre_act_grad(&g, Activation::Identity, pool, a, gp, d);
                        }
                    }
                }
                Layer::Dropout { .. } => {
                    if let Some(gi) = gi {
                        for ((d, &g), &k) in gi.iter_mut().zip(&*go).zip(masks[mask_at[l]]) {
                            *d = g * k;
                        }
                    }
                }
            }
            if l > 0 {
                std::mem::swap(g_out, g_in);
            }
        }
    }

    /// Each parameter's gradient, weight then bias per layer that has them.
    pub fn grads(&self, layers: &[Layer]) -> Vec<&[f32]> {
        let mut out = Vec::new();
        for (l, layer) in layers.iter().enumerate() {
            if let Some((w, b)) = layer.param_lens() {
                out.push(&self.dwb[l][..w]);
                out.push(&self.dwb[l][w..w + b]);
            }
        }
        out
    }
}

/// Columns per gemm a tile of images aims at (images per tile: this over the plane, at most [`TILE_IMAGES`]).
const TILE_COLUMNS: usize = 1024;
const TILE_IMAGES: usize = 16;

/// The convolution with bias and activation of `x` (`[m, c, h, w]`) into `a` (`[m, o, ho, wo]`), a tile of images
/// per gemm: `y[o, (j, p)] = w · cols[(c,ki,kj), (j, p)]` over the tile's im2col, then each image's rows with
/// their bias. Many output channels keep a wide gemm busy where one image's plane alone would not.
#[allow(clippy::too_many_arguments)]
fn conv_tiles(
    g: &Geom,
    act: Activation,
    w: &[f32],
    b: &[f32],
    x: &[f32],
    a: &mut [f32],
    cols: &mut Vec<f32>,
    tile: &mut Vec<f32>,
) {
    let (ckk, plane, in_img, out_img) = (g.ckk(), g.plane(), g.in_img(), g.out_img());
    let per_tile = TILE_COLUMNS.div_ceil(plane.max(1)).clamp(1, TILE_IMAGES);
    let cols = sized(cols, ckk * per_tile * plane);
    let y = sized(tile, g.o * per_tile * plane);
    for (t, a_tile) in a.chunks_mut(per_tile * out_img).enumerate() {
        let images = a_tile.len() / out_img;
        let (i0, ld) = (t * per_tile, images * plane);
        for j in 0..images {
            im2col_ld(g, &x[(i0 + j) * in_img..(i0 + j + 1) * in_img], &mut cols[j * plane..], ld);
        }
        sgemm(g.o, ld, ckk, y, (1, ld), false, w, (1, ckk), cols, (1, ld));
        for (j, a_img) in a_tile.chunks_exact_mut(out_img).enumerate() {
            for (o, row) in a_img.chunks_exact_mut(plane).enumerate() {
                let src = &y[o * ld + j * plane..o * ld + (j + 1) * plane];
                row.iter_mut().zip(src).for_each(|(d, &s)| *d = s + b[o]);
            }
            activate(act, a_img);
        }
    }
}
