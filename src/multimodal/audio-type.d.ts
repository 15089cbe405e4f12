// audio-type ships no types: its default export names a buffer's audio format ("mp3", "flac", "oga", "opus", "wav", …).
declare module "audio-type" {
  export default function audioType(buffer: Uint8Array): string | undefined;
}
