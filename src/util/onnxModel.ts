import { createRequire } from "node:module";
import type protobuf from "protobufjs";

// protobufjs loads with the first model built, not when genera is imported.
const require = createRequire(import.meta.url);

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
message AttributeProto { string name = 1; float f = 2; int64 i = 3; repeated int64 ints = 8; int32 type = 20; }
message NodeProto { repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4; repeated AttributeProto attribute = 5; string domain = 7; }
message GraphProto { repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5; repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; }
message ModelProto { int64 ir_version = 1; string producer_name = 2; GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8; }`;

let modelProto: protobuf.Type | undefined;

// TensorProto.DataType and AttributeProto.AttributeType values.
const FLOAT = 1;
const INT64 = 7;
const ATTRIBUTE = { FLOAT: 1, INT: 2, INTS: 7 } as const;

/** A graph input or output (float32 unless int64 is said); a string dimension is symbolic (any size). */
export interface OnnxValue {
  name: string;
  dims: Array<number | string>;
  int64?: boolean;
}

/** An attribute: an integer, a list of integers, or a float written { float: x }. */
export type OnnxAttribute = number | number[] | { float: number };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, OnnxAttribute>;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  /** Constant tensors (weights, shapes, axes) stored in the model. */
  initializers?: Array<{ name: string; dims: number[]; data: Float32Array | BigInt64Array }>;
}

function attribute(name: string, value: OnnxAttribute) {
  if (Array.isArray(value)) return { name, ints: value, type: ATTRIBUTE.INTS };
  if (typeof value === "number") return { name, i: value, type: ATTRIBUTE.INT };
  return { name, f: value.float, type: ATTRIBUTE.FLOAT };
}

/** The model's bytes: IR version 8, default opset 17. */
export function encodeOnnxModel(graph: OnnxGraph): Uint8Array {
  modelProto ??= (require("protobufjs") as typeof protobuf).parse(ONNX_SCHEMA).root.lookupType("onnx.ModelProto");
  const value = ({ name, dims, int64 }: OnnxValue) => ({
    name,
    type: {
      tensorType: {
        elemType: int64 ? INT64 : FLOAT,
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
          node: graph.nodes.map((n, i) => ({
            input: n.inputs,
            output: n.outputs,
            opType: n.op,
            name: `${n.op}_${i}`,
            attribute: Object.entries(n.attributes ?? {}).map(([key, v]) => attribute(key, v)),
          })),
          initializer: (graph.initializers ?? []).map((t) => ({
            name: t.name,
            dims: t.dims,
            dataType: t.data instanceof BigInt64Array ? INT64 : FLOAT,
            rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
          })),
          input: graph.inputs.map(value),
          output: graph.outputs.map(value),
        },
      }),
    )
    .finish();
}
