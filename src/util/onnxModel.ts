/**
 * Encodes small ONNX models in memory (for onnxruntime's InferenceSession.create), from the
 * slice of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) that plain graphs
 * of standard ops with float initializers need. The protobuf wire format is written directly
 * (varints, length-delimited fields, fixed32 floats): these few messages
 * did not need a protobuf library and its eleven packages. Field numbers, as in onnx.proto:
 *
 *   ModelProto { ir_version 1, producer_name 2, graph 7, opset_import 8 }
 *   OperatorSetIdProto { domain 1, version 2 }
 *   GraphProto { node 1, name 2, initializer 5, input 11, output 12 }
 *   NodeProto { input 1, output 2, name 3, op_type 4, attribute 5 }
 *   AttributeProto { name 1, f 2, i 3, ints 8, type 20 }
 *   TensorProto { dims 1, data_type 2, name 8, raw_data 9 }
 *   ValueInfoProto { name 1, type 2 }  TypeProto { tensor_type 1 }
 *   TensorTypeProto { elem_type 1, shape 2 }  TensorShapeProto { dim 1 }
 *   Dimension { dim_value 1, dim_param 2 }
 */

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

/** One message being written: fields in the order they are added, as protobuf encoders write them. */
class Message {
  private readonly parts: Uint8Array[] = [];

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  private varint(value: number | bigint): void {
    // int64 on the wire: a negative number is its 64-bit two's complement (ten bytes).
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.parts.push(Uint8Array.from(bytes));
  }

  int(field: number, value: number): this {
    this.tag(field, 0);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.parts.push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.varint(value.length);
    this.parts.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: Message): this {
    return this.bytes(field, value.finish());
  }

  /** A repeated integer field, one tag per value (unpacked, as protobufjs wrote these models). */
  ints(field: number, values: ArrayLike<number | bigint>): this {
    for (let i = 0; i < values.length; i++) {
      this.tag(field, 0);
      this.varint(values[i]);
    }
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

function attribute(name: string, value: OnnxAttribute): Message {
  const m = new Message().string(1, name);
  if (Array.isArray(value)) return m.ints(8, value).int(20, ATTRIBUTE.INTS);
  if (typeof value === "number") return m.int(3, value).int(20, ATTRIBUTE.INT);
  return m.float(2, value.float).int(20, ATTRIBUTE.FLOAT);
}

function valueInfo({ name, dims, int64 }: OnnxValue): Message {
  const shape = new Message();
  for (const d of dims) shape.message(1, typeof d === "number" ? new Message().int(1, d) : new Message().string(2, d));
  const tensorType = new Message().int(1, int64 ? INT64 : FLOAT).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

/** The model's bytes: IR version 8, default opset 17. */
export function encodeOnnxModel(graph: OnnxGraph): Uint8Array {
  const g = new Message();
  graph.nodes.forEach((n, i) => {
    const node = new Message();
    for (const input of n.inputs) node.string(1, input);
    for (const output of n.outputs) node.string(2, output);
    node.string(3, `${n.op}_${i}`).string(4, n.op);
    for (const [key, v] of Object.entries(n.attributes ?? {})) node.message(5, attribute(key, v));
    g.message(1, node);
  });
  g.string(2, graph.name);
  for (const t of graph.initializers ?? []) {
    g.message(
      5,
      new Message()
        .ints(1, t.dims)
        .int(2, t.data instanceof BigInt64Array ? INT64 : FLOAT)
        .string(8, t.name)
        .bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
    );
  }
  for (const input of graph.inputs) g.message(11, valueInfo(input));
  for (const output of graph.outputs) g.message(12, valueInfo(output));
  return new Message()
    .int(1, 8)
    .string(2, "genera")
    .message(7, g)
    .message(8, new Message().string(1, "").int(2, 17))
    .finish();
}
