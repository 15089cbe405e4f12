import { describe, expect, it } from "vitest";
import { decodeDataUrl, messageText } from "../../src/multimodal/imageContent.js";

const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
const dataUrl = `data:image/png;base64,${png.toString("base64")}`;

describe("messages with image_url parts", () => {
  it("become text: each image as its caption and OCR text, with a note that it stands in for the picture", async () => {
    const seen: Uint8Array[] = [];
    const text = await messageText(
      [
        { type: "text", text: "What is written here?" },
        { type: "image_url", image_url: { url: dataUrl } },
        { type: "image_url", image_url: dataUrl },
      ],
      {
        describe: async (bytes, label) => {
          seen.push(bytes);
          return label === "image 1" ? { caption: "a slide", ocrText: "Attention\\nis all" } : {};
        },
      },
    );
    expect(seen.map((b) => Buffer.from(b).equals(png))).toEqual([true, true]);
    expect(text).toContain("What is written here?");
    expect(text).toContain(
      '[Image 1, given as its caption and OCR text because the answering model reads text only: caption: "a slide"; text in it: "Attention\\nis all"]',
    );
    expect(text).toContain(
      "[Image 2, given as its caption and OCR text because the answering model reads text only: nothing could be read from it]",
    );
    expect(await messageText("plain")).toBe("plain");
  });

  it("accept inline data: URLs only, and refuse unknown parts", async () => {
    expect(() => decodeDataUrl("https://example.com/cat.png", "image 1")).toThrow(
      expect.objectContaining({ code: "INVALID_INPUT", message: expect.stringContaining("does not fetch URLs") }),
    );
    expect(() => decodeDataUrl("data:text/plain;base64,aGk=", "image 1")).toThrow(
      expect.objectContaining({ code: "INVALID_INPUT" }),
    );
    expect(() => decodeDataUrl(`data:image/png;base64,${"A".repeat(14_000_000)}`, "image 1")).toThrow(
      expect.objectContaining({ code: "TOO_LARGE" }),
    );
    await expect(messageText([{ type: "video_url" }])).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(messageText([{ type: "input_audio" }])).rejects.toMatchObject({ code: "INVALID_INPUT" });
    // A recording needs a speech model on the server: without one, 501 that says which setting.
    await expect(
      messageText([{ type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } }]),
    ).rejects.toMatchObject({ code: "NOT_IMPLEMENTED", message: expect.stringContaining("speechModel") });
  });
});
