// @ts-check
/**
 * The canvas's shared types (JSDoc only; nothing runs here): boxes, undo steps, pointer
 * gestures, key bindings, the anywidget model and the view's state.
 */

/** @typedef {{ xyxy: number[], label: number, score?: number }} Box score: a draft's confidence */
/** @typedef {"boxes" | "drafts"} ListName */
/** @typedef {{ list: ListName, index: number }} Ref */
/** @typedef {{ boxes: Box[], drafts: Box[] }} BoxState */
/**
 * One object of instance mode: its class, whether it is a model draft, and its mask as the
 * rect [x0, y0, x1, y1] it lies in and that rect's pixels (1: the object's), row by row.
 * Never changed in place: an edit makes a new one (undo steps hold the old ones).
 * @typedef {{ id: number, label: number, draft: boolean, rect: number[], bits: Uint8Array, score?: number }} Obj
 */
/**
 * @typedef {{ kind: "boxes", before: BoxState, after: BoxState }
 *   | { kind: "mask", rect: number[], before: Uint8Array, after: Uint8Array }
 *   | { kind: "objects", before: Obj[], after: Obj[], bytes: number }} Step
 */
/**
 * @typedef {{ kind: "create", start: number[], from: number[], xyxy: number[] | null, moved: boolean }
 *   | { kind: "move" | "resize", start: number[], from: number[], target: Ref, handle: string,
 *       orig: number[], xyxy: number[], moved: boolean }
 *   | { kind: "pan", start: number[], origin: number[] }
 *   | { kind: "paint", value: number, before: Rows, dirty: number[], last: number[] }
 *   | { kind: "stroke", start: number[], moved: boolean, erase: boolean, id: number, label: number,
 *       rect: number[], bits: Uint8Array, last: number[], target: Obj | null, dead: boolean }
 *   | { kind: "vertex", start: number[], moved: boolean, index: number }
 *   | { kind: "polybox", start: number[], moved: boolean, from: number[], to: number[] }} Drag
 */
/** @typedef {Map<number, Uint8Array>} Rows mask rows as they were before a gesture, by y */
/** @typedef {{ action: string, keys: string[], modes: string[], label: string }} KeyBinding */
/**
 * @typedef {{
 *   get(name: string): any,
 *   set(name: string, value: any): void,
 *   save_changes(): void,
 *   on(event: string, cb: (...args: any[]) => void): void,
 *   off(event?: string, cb?: (...args: any[]) => void): void,
 *   send(content: object, callbacks?: any, buffers?: ArrayBufferView[]): void,
 * }} Model
 */

/**
 * @typedef {{
 *   W: number, H: number, imageId: number, synced: boolean,
 *   boxes: Box[], drafts: Box[], selected: Ref | null, mask: Uint8Array, maskReady: boolean,
 *   maskError: string, maskDraft: boolean,
 *   drag: Drag | null, polygon: number[][],
 *   polygonStart: { point: number[], click: number[] } | null,
 *   pointer: number[] | null, panKey: boolean,
 *   lastClick: { t: number, x: number, y: number } | null,
 *   objects: Obj[], picked: number | null, nextId: number,
 * }} State
 */


export {};
