// @ts-check
/**
 * Messages to Python leave in the order they were made: a key that submits the image never
 * overtakes the patch of the stroke before it, still being compressed (its buffers a promise).
 * post() sends; send() also marks the view's state as Python's (an edit: state.synced).
 */

/** @typedef {ArrayBufferView[] | Promise<ArrayBufferView[]>} Buffers */

/** @param {import("./types.js").Model} model @param {import("./types.js").State} state */
export function createOutbox(model, state) {
  /** @type {Promise<void>} */
  let outbox = Promise.resolve();
  /** @param {object} content @param {Buffers} [buffers] */
  const post = (content, buffers) => {
    outbox = outbox
      .then(async () => model.send(content, undefined, await buffers))
      .catch((err) => console.error("al_widget canvas: a message to Python was not sent", err));
  };
  /** @param {object} content @param {Buffers} [buffers] */
  const send = (content, buffers) => {
    state.synced = true; // this view's edit now is Python's state
    post(content, buffers);
  };
  return { post, send };
}
