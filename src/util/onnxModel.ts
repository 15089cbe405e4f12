import protobuf from "protobufjs";

/**
 * Encodes small ONNX models in memory (for onnxruntime's InferenceSession.create),
 * from the slice of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto)
 * that plain graphs of standard ops with float initializers need.
 */
const ONNX_SCHEMA = `syntax = "proto3"; package onnx;
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message Dimension { int64 dim_value = 1; string dim_param = 2; }
message TensorShapeProto { repeated Dimension dim = 1; }
message TensorTypeProto { int32 elem_type = 1; TensorShapeProto shape = 2; }
message TypeProto { TensorTypeProto tensor_type = 1; }
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message TensorProto { repeated int64 dims = 1; int32 data_type = 2; string name = 8; bytes raw_data = 9; }
message NodeProto { repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4; string domain = 7; }
message GraphProto { repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5; repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; }
message ModelProto { int64 ir_version = 1; string producer_name = 2; GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8; }`;

let modelProto: protobuf.Type | undefined;

const FLOAT = 1; // TensorProto.DataType.FLOAT

/** A float32 graph input or output; a string dimension is symbolic (any size). */
export interface OnnxValue {
  name: string;
  dims: Array<number | string>;
}

export interface OnnxGraph {
  name: string;
  nodes: Array<{ op: string; inputs: string[]; outputs: string[] }>;
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  /** Constant float32 tensors (weights) stored in the model. */
  initializers?: Array<{ name: string; dims: number[]; data: Float32Array }>;
}

/** The model's bytes: IR version 8, default opset 17. */
export function encodeOnnxModel(graph: OnnxGraph): Uint8Array {
  modelProto ??= protobuf.parse(ONNX_SCHEMA).root.lookupType("onnx.ModelProto");
  const value = ({ name, dims }: OnnxValue) => ({
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
  return modelProto
    .encode(
      modelProto.fromObject({
        irVersion: 8,
        producerName: "genera",
        opsetImport: [{ domain: "", version: 17 }],
        graph: {
          name: graph.name,
          node: graph.nodes.map((n, i) => ({ input: n.inputs, output: n.outputs, opType: n.op, name: `${n.op}_${i}` })),
          initializer: (graph.initializers ?? []).map((t) => ({
            name: t.name,
            dims: t.dims,
            dataType: FLOAT,
            rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
          })),
          input: graph.inputs.map(value),
          output: graph.outputs.map(value),
        },
      }),
    )
    .finish();
}
