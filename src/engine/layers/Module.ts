import { GeneraError } from "../../errors.js";
import { Tensor } from "../ops/index.js";
import { SeededRng } from "../random.js";

/**
 * Base class for every layer and model, after torch.nn.Module: parameters are
 * discovered by walking the object's own fields, so a layer only has to assign
 * its weights and sub-layers to fields and the names follow the field names
 * ("blocks.0.attn.q.weight"). Field order is insertion order, which keeps the
 * names and their order stable across runs — checkpoints rely on that.
 */
export abstract class Module {
  training = true;

  /** Every trainable tensor (requiresGrad) under this module, with a dotted name. */
  namedParameters(prefix = ""): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    const seen = new Set<Tensor>();
    const visit = (value: unknown, name: string): void => {
      if (value instanceof Tensor) {
        // Tied weights (embedding = LM head) are one tensor under two names; list it once.
        if (value.requiresGrad && !seen.has(value)) {
          seen.add(value);
          out.push([name, value]);
        }
      } else if (value instanceof Module) {
        for (const [key, child] of Object.entries(value)) {
          if (key === "training") continue;
          visit(child, name ? `${name}.${key}` : key);
        }
      } else if (Array.isArray(value)) {
        value.forEach((item, i) => {
          visit(item, name ? `${name}.${i}` : String(i));
        });
      }
    };
    for (const [key, child] of Object.entries(this)) {
      if (key === "training") continue;
      visit(child, prefix ? `${prefix}.${key}` : key);
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Total number of trainable scalars. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Sub-modules, depth first, including this one. */
  modules(): Module[] {
    const out: Module[] = [];
    const visit = (value: unknown): void => {
      if (value instanceof Module) {
        out.push(value);
        for (const [key, child] of Object.entries(value)) if (key !== "training") visit(child);
      } else if (Array.isArray(value)) {
        for (const item of value) visit(item);
      }
    };
    visit(this);
    return out;
  }

  /**
   * The seeded generators this module and its sub-modules own (fields holding a
   * SeededRng), in field order: a trainer saves their states with a checkpoint so
   * dropout after a resume draws what it would have drawn without the interruption.
   */
  randomGenerators(): SeededRng[] {
    const out: SeededRng[] = [];
    for (const m of this.modules()) {
      for (const value of Object.values(m)) if (value instanceof SeededRng && !out.includes(value)) out.push(value);
    }
    return out;
  }

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** name → tensor, the form checkpoints (safetensors) are written from. */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters());
  }

  /**
   * Copies weights in by name. Every parameter must be present with the same
   * shape; the model is left untouched when anything is missing or mismatched.
   */
  loadStateDict(
    state:
      | Map<string, { data: Float32Array; shape: number[] }>
      | Record<string, { data: Float32Array; shape: number[] }>,
  ): void {
    const get = (name: string) => (state instanceof Map ? state.get(name) : state[name]);
    const params = this.namedParameters();
    for (const [name, p] of params) {
      const src = get(name);
      if (!src)
        throw new GeneraError("MODEL_MISMATCH", `weights are missing parameter "${name}"`, { details: { name } });
      if (
        src.shape.length !== p.shape.length ||
        src.shape.some((d, i) => d !== p.shape[i]) ||
        src.data.length !== p.size
      ) {
        throw new GeneraError(
          "MODEL_MISMATCH",
          `parameter "${name}" has shape [${src.shape}] in the weights but [${p.shape}] in the model`,
          { details: { name, expected: p.shape, actual: src.shape } },
        );
      }
    }
    for (const [name, p] of params) p.data.set(get(name)!.data);
  }
}
