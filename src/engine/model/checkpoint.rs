//! Weight files: safetensors, keyed by stage name (c1.weight, …), with the architecture and data set in the
//! metadata so a file restores the model it came from. Loading checks everything before anything is replaced.

use crate::engine::files::atomic_file::write_atomic;
use crate::engine::files::bounded_read::read_bounded;
use crate::engine::model::architecture::Architecture;
use crate::engine::model::config::ModelConfig;
use crate::engine::model::stages;
use crate::engine::model::weights::{ModelWeights, Param};
use crate::{Error, Result};
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use std::collections::HashMap;
use std::path::Path;

const FORMAT: &str = "lenet-playground/1";

/// The weights as safetensors bytes.
pub fn to_bytes(w: &ModelWeights) -> Result<Vec<u8>> {
    let bytes: Vec<Vec<u8>> = w.params.iter().map(|p| p.data.iter().flat_map(|v| v.to_le_bytes()).collect()).collect();
    let views = w
        .params
        .iter()
        .zip(&bytes)
        .map(|(p, b)| {
            TensorView::new(Dtype::F32, p.shape.clone(), b)
                .map(|v| (p.name.clone(), v))
                .map_err(|e| Error::encode(format!("tensor '{}'", p.name), e))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut meta = HashMap::new();
    meta.insert("format".to_string(), FORMAT.to_string());
    meta.insert("activation".to_string(), w.config.activation.key().to_string());
    meta.insert("pooling".to_string(), w.config.pooling.key().to_string());
    meta.insert("arch".to_string(), w.config.arch.spec());
    meta.insert("dataset".to_string(), w.dataset.clone());
    meta.insert("classes".to_string(), serde_json::to_string(&w.class_names).unwrap_or_default());
    safetensors::serialize(views, Some(meta)).map_err(|e| Error::encode("weights", e))
}

/// Saves atomically: the file is either the old one or the complete new one. Weights that are not a valid model
/// (wrong shapes, NaN or infinite values) are refused, so a diverged run can never write them.
pub fn save(path: &Path, w: &ModelWeights) -> Result<()> {
    w.check_shapes().map_err(|e| Error::write(path, "refusing to save these weights").because(e))?;
    write_atomic(path, &to_bytes(w)?)
}

/// A LeNet-5 weights file is about 247 KB; the largest network the editor allows holds
/// [`stages::MAX_PARAMS`] values (16 MB). Anything bigger is refused before it is read.
pub(crate) const MAX_WEIGHTS_FILE_BYTES: u64 = stages::MAX_PARAMS as u64 * 4 + (1 << 20);

/// Loads and validates a weights file; any problem is a `Weights` error naming the file. A path that is not a
/// regular file (a folder, `/dev/zero`, a pipe) or is over [`MAX_WEIGHTS_FILE_BYTES`] is refused before reading.
pub fn load(path: &Path) -> Result<ModelWeights> {
    let bytes = read_bounded(path, MAX_WEIGHTS_FILE_BYTES).map_err(|r| {
        r.into_error(
            path,
            |p, m| Error::weights(p, m),
            |len| {
                format!(
                    "{len} bytes is more than any network of this playground needs (LeNet-5: about 247 KB; at most {} MB accepted)",
                    MAX_WEIGHTS_FILE_BYTES >> 20
                )
            },
        )
    })?;
    from_bytes(&bytes).map_err(|e| e.in_file(path))
}

/// Weights from safetensors bytes, checked against the architecture. Problems are `Weights` errors without a path
/// (`load` adds it).
pub fn from_bytes(bytes: &[u8]) -> Result<ModelWeights> {
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| Error::bad_weights("not a safetensors weights file").because(e))?;
    let st =
        SafeTensors::deserialize(bytes).map_err(|e| Error::bad_weights("not a valid safetensors file").because(e))?;
    let meta = header.metadata().clone().unwrap_or_default();
    let get = |k: &str| meta.get(k).cloned();
    let require = |k: &str| get(k).ok_or_else(|| Error::bad_weights(format!("metadata lacks '{k}'")));
    match get("format") {
        Some(f) if f == FORMAT => {}
        Some(f) => return Err(Error::bad_weights(format!("unsupported weights format '{f}' (expected {FORMAT})"))),
        None => return Err(Error::bad_weights("not a LeNet-5 Playground weights file (no format metadata)")),
    }
    let activation = require("activation")?.parse().map_err(|e| Error::bad_weights("").because(e))?;
    let pooling = require("pooling")?.parse().map_err(|e| Error::bad_weights("").because(e))?;
    let class_names: Vec<String> = match get("classes") {
        Some(c) => serde_json::from_str(&c)
            .map_err(|e| Error::bad_weights("metadata 'classes' is not a list of names").because(e))?,
        None => crate::engine::data::classes::DIGIT_CLASSES.iter().map(|s| s.to_string()).collect(),
    };
    // A file without an architecture is the classic LeNet-5 (every file written before it was editable).
    let arch = match get("arch") {
        Some(a) => a.parse().map_err(|e| Error::bad_weights("metadata 'arch' is not an architecture").because(e))?,
        None => Architecture::lenet5(),
    };
    let config = ModelConfig { activation, pooling, arch, classes: class_names.len() };
    stages::try_stages(config)
        .map_err(|e| Error::bad_weights(format!("metadata describes an impossible network ({arch}): {e}")))?;
    let specs = stages::params(config);
    let names = st.names();
    if let Some(extra) = names.iter().find(|n| !specs.iter().any(|p| p.name() == **n)) {
        return Err(Error::bad_weights(format!(
            "unexpected tensor '{extra}': the architecture in its metadata ({arch}) has no such tensor"
        )));
    }
    let mut params = Vec::new();
    for spec in specs {
        let name = spec.name();
        let t = st.tensor(&name).map_err(|_| Error::bad_weights(format!("missing tensor '{name}'")))?;
        if t.dtype() != Dtype::F32 {
            return Err(Error::bad_weights(format!("tensor '{name}' is {:?}, expected F32", t.dtype())));
        }
        if t.shape() != spec.shape {
            return Err(Error::bad_weights(format!(
                "tensor '{name}' has shape {:?}, the architecture in its metadata needs {:?}",
                t.shape(),
                spec.shape
            )));
        }
        let data = t.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        params.push(Param { name, shape: spec.shape, data });
    }
    let w = ModelWeights { config, dataset: get("dataset").unwrap_or_else(|| "MNIST".into()), class_names, params };
    w.check_shapes()?;
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model::config::{Init, ModelConfig};
    use crate::engine::model::stages::stages;
    use crate::engine::model::weights::ModelWeights;

    #[test]
    fn a_weights_file_round_trips_by_name() {
        let names: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let w = ModelWeights::init(ModelConfig::default(), Init::Xavier, 7, "MNIST", &names);
        let back = from_bytes(&to_bytes(&w).unwrap()).unwrap();
        assert_eq!(back, w);
        // Every stage with weights is found by name, with the shapes its description gives.
        for stage in stages(ModelConfig::default()).iter().filter(|s| s.has_params()) {
            let (weight, bias) = stage.kind.param_shapes().unwrap();
            let (w_param, b_param) = back.layer(stage.key).unwrap();
            assert_eq!((&w_param.shape, &b_param.shape), (&weight, &bias), "{}", stage.key);
            assert_eq!(w_param.data, w.param(&format!("{}.weight", stage.key)).unwrap().data);
        }
        assert!(back.layer("s2").is_none());
    }
}
