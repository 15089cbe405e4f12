import { describe, expect, it } from "vitest";
import { calculatorTool, evaluateExpression, formatNumber } from "../../src/agents/tools/calculator.js";

describe("evaluateExpression", () => {
  it.each([
    ["2 + 3 * 4", 14],
    ["(2 + 3) * 4", 20],
    ["2 ^ 3 ^ 2", 512],
    ["-2 ^ 2", -4],
    ["2 ** 10", 1024],
    ["7 ÷ 2", 3.5],
    ["3 × 4 − 1", 11],
    ["15% of 240", 36],
    ["200 + 10%", 220],
    ["200 - 25%", 150],
    ["50%", 0.5],
    ["sqrt(144) + abs(-3)", 15],
    ["max(1, 7, 3) - min(4, 2)", 5],
    ["round(3.14159, 2)", 3.14],
    ["log(1000)", 3],
    ["ln(e)", 1],
    ["5!", 120],
    ["1.5e3 / .5", 3000],
    ["2pi", Number.NaN],
  ])("%s", (expression, expected) => {
    if (Number.isNaN(expected)) expect(() => evaluateExpression(expression)).toThrow();
    else expect(evaluateExpression(expression)).toBeCloseTo(expected, 10);
  });

  it("formats results without binary noise", () => {
    expect(formatNumber(evaluateExpression("0.1 + 0.2"))).toBe("0.3");
    expect(formatNumber(1 / 0)).toBe("infinity");
  });

  it.each([
    "process.exit(1)",
    "constructor.constructor('return process')()",
    "this",
    "globalThis",
    "require('fs')",
    "1; process.exit(1)",
    "`1`",
    "[].map",
    "__proto__",
    "toString()",
    "",
    "2 +",
    "sqrt(1, 2)",
  ])("refuses hostile or malformed input %j without running it", (expression) => {
    expect(() => evaluateExpression(expression)).toThrowError(expect.objectContaining({ code: "INVALID_INPUT" }));
  });

  it("refuses deep nesting without exhausting the stack", () => {
    const deep = `${"(".repeat(300)}1${")".repeat(300)}`;
    expect(() => evaluateExpression(deep)).toThrowError(/nested more than/);
    const million = `${"(".repeat(1_000_000)}1${")".repeat(1_000_000)}`;
    expect(() => evaluateExpression(million)).toThrowError(expect.objectContaining({ code: "TOO_LARGE" }));
    expect(() => evaluateExpression(`${"-".repeat(900)}1`)).toThrowError(/nested more than/);
  });

  it("is a LangChain tool", async () => {
    expect(await calculatorTool.invoke({ expression: "6 * 7" })).toBe("6 * 7 = 42");
  });
});
