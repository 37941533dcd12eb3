//! ONNX export: the network of a weights file as a standard graph that other tools open (Netron) and run
//! (onnxruntime, tract, PyTorch's importers). Every stage the editor offers has an ONNX operator of opset 13:
//! Conv, Sigmoid/Relu, AveragePool/MaxPool (2×2, stride 2, floor: an odd side loses its last row, as here),
//! Flatten, Gemm; dropout is the identity, as at prediction. Each node and tensor keeps its stage's name (c1,
//! c1.act, s2, …, c1.weight), so the graph reads like the inspector's table.
//!
//! The graph takes what the engine takes, `image`: N×1×28×28 floats, MNIST's bytes / 255 (0 background, 1 full
//! ink), N chosen at run time; it gives `logits`: N×classes. The class names, the data set and the preprocessing
//! are in the model's metadata.

mod proto;

use crate::engine::data::set::IMAGE_SIDE;
use crate::engine::files::atomic_file::write_atomic;
use crate::engine::model::config::{Activation, Pooling};
use crate::engine::model::stages::{self, StageKind};
use crate::engine::model::weights::ModelWeights;
use crate::{Error, Result};
use prost::Message;
use proto::*;
use std::path::Path;

/// The operator set the graph is written for, and the IR version that goes with it.
pub const OPSET: i64 = 13;
const IR_VERSION: i64 = 7;
/// The graph's input and output names.
pub const INPUT: &str = "image";
pub const OUTPUT: &str = "logits";
/// How an image becomes the input, as the metadata states it.
pub const PREPROCESSING: &str = "input 'image': float32 N×1×28×28, one grey channel, row-major; each pixel is \
    its 8-bit value / 255 with ink bright (0 = background, 1 = full ink), the digit centred as in MNIST. Output \
    'logits': N×classes; softmax gives the class probabilities, in the order of 'class_names'.";

/// The weights as an ONNX model file's bytes. Weights that are not a valid model (wrong shapes, NaN or infinite
/// values) are refused, as a save refuses them.
pub fn to_onnx_bytes(w: &ModelWeights) -> Result<Vec<u8>> {
    w.check_shapes()?;
    let stages = stages::try_stages(w.config)
        .map_err(|e| Error::bad_weights(format!("ONNX cannot express architecture {}: {e}", w.config.arch)))?;
    let mut nodes = Vec::with_capacity(stages.len());
    let mut previous = INPUT.to_string();
    for (i, stage) in stages.iter().enumerate() {
        let output = if i + 1 == stages.len() { OUTPUT.to_string() } else { stage.key.to_string() };
        let params = || vec![format!("{}.weight", stage.key), format!("{}.bias", stage.key)];
        let (op, mut inputs, attributes) = match stage.kind {
            StageKind::Conv { kernel, padding, .. } => {
                let (k, p) = (kernel as i64, padding as i64);
                let attrs = vec![ints("kernel_shape", &[k, k]), ints("pads", &[p, p, p, p]), ints("strides", &[1, 1])];
                ("Conv", params(), attrs)
            }
            StageKind::Activation(Activation::Sigmoid) => ("Sigmoid", vec![], vec![]),
            StageKind::Activation(Activation::Relu) => ("Relu", vec![], vec![]),
            StageKind::Pool(pool) => {
                let op = match pool {
                    Pooling::Avg => "AveragePool",
                    Pooling::Max => "MaxPool",
                };
                (op, vec![], vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])])
            }
            StageKind::Flatten => ("Flatten", vec![], vec![int("axis", 1)]),
            StageKind::Dropout { .. } => ("Identity", vec![], vec![]),
            StageKind::Linear { .. } => ("Gemm", params(), vec![int("transB", 1)]),
        };
        inputs.insert(0, std::mem::replace(&mut previous, output.clone()));
        nodes.push(NodeProto {
            input: inputs,
            output: vec![output],
            name: stage.key.to_string(),
            op_type: op.to_string(),
            attribute: attributes,
        });
    }
    let initializer = w
        .params
        .iter()
        .map(|p| TensorProto {
            dims: p.shape.iter().map(|&d| d as i64).collect(),
            data_type: FLOAT,
            name: p.name.clone(),
            raw_data: p.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        })
        .collect();
    let side = IMAGE_SIDE as i64;
    let graph = GraphProto {
        node: nodes,
        name: "lenet-playground".to_string(),
        initializer,
        doc_string: format!("{} trained on {}", w.config.arch, w.dataset),
        input: vec![value_info(INPUT, &[None, Some(1), Some(side), Some(side)], "N×1×28×28, pixels / 255, ink bright")],
        output: vec![value_info(OUTPUT, &[None, Some(w.config.classes as i64)], "N×classes, before softmax")],
    };
    let class_names = serde_json::to_string(&w.class_names).map_err(|e| Error::encode("class names", e))?;
    let metadata = [
        ("class_names", class_names),
        ("dataset", w.dataset.clone()),
        ("architecture", w.config.arch.spec()),
        ("activation", w.config.activation.key().to_string()),
        ("pooling", w.config.pooling.key().to_string()),
        ("preprocessing", PREPROCESSING.to_string()),
        ("opset", OPSET.to_string()),
    ];
    let model = ModelProto {
        ir_version: IR_VERSION,
        producer_name: "lenet-playground".to_string(),
        producer_version: env!("CARGO_PKG_VERSION").to_string(),
        domain: String::new(),
        model_version: 1,
        doc_string: format!("A {} network from LeNet-5 Playground; see the metadata for its input", w.config.arch),
        graph: Some(graph),
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: OPSET }],
        metadata_props: metadata
            .into_iter()
            .map(|(key, value)| StringStringEntryProto { key: key.to_string(), value })
            .collect(),
    };
    Ok(model.encode_to_vec())
}

/// Writes the ONNX file atomically (the old file or the whole new one, never a part) and returns its size.
pub fn export_onnx(w: &ModelWeights, path: &Path) -> Result<usize> {
    let bytes = to_onnx_bytes(w).map_err(|e| Error::write(path, "no ONNX file written").because(e))?;
    write_atomic(path, &bytes)?;
    Ok(bytes.len())
}

fn ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto { name: name.to_string(), i: 0, ints: values.to_vec(), r#type: ATTRIBUTE_INTS }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto { name: name.to_string(), i: value, ints: vec![], r#type: ATTRIBUTE_INT }
}

/// A float tensor's name and shape; `None` is the batch size, named `N`.
fn value_info(name: &str, dims: &[Option<i64>], doc: &str) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| match d {
            Some(v) => Dimension { dim_value: Some(*v), dim_param: None },
            None => Dimension { dim_value: None, dim_param: Some("N".to_string()) },
        })
        .collect();
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto { elem_type: FLOAT, shape: Some(TensorShapeProto { dim }) }),
        }),
        doc_string: doc.to_string(),
    }
}
