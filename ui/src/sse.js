// Server-Sent Events over fetch (EventSource cannot POST or send an Authorization header).

/**
 * A parser for the text/event-stream format: feed it decoded text with push(); it calls onEvent({event, data})
 * for every complete event, `data` being the joined data lines. end() flushes a last event without a blank line.
 */
export function createSseParser(onEvent) {
  let buffer = "";
  let event = "message";
  let data = [];

  function line(text) {
    if (text === "") {
      if (data.length) onEvent({ event, data: data.join("\n") });
      event = "message";
      data = [];
      return;
    }
    if (text.startsWith(":")) return; // a comment (keep-alive)
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }

  return {
    push(chunk) {
      buffer += chunk;
      let newline;
      while ((newline = buffer.search(/\r\n|\r|\n/)) !== -1) {
        const width = buffer.startsWith("\r\n", newline) ? 2 : 1;
        // A lone \r at the very end may be the first half of \r\n: wait for more.
        if (width === 1 && buffer[newline] === "\r" && newline === buffer.length - 1) break;
        line(buffer.slice(0, newline));
        buffer = buffer.slice(newline + width);
      }
    },
    end() {
      if (buffer) line(buffer);
      buffer = "";
      line("");
    },
  };
}

/** Read a fetch Response's body as SSE, calling onEvent({event, data}) with `data` parsed as JSON. */
export async function readEvents(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = createSseParser(({ event, data }) => onEvent({ event, data: JSON.parse(data) }));
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parser.push(value);
  }
  parser.end();
}
