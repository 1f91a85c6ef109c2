// The browser side of a VM's console (app/src/consoles/pages.rs): noVNC for
// the screen, xterm.js for the serial line, both fetched from the console's
// own files (/pkg/vendor/, see scripts/vendor.sh) by a dynamic import()
// only when a console is opened, so nothing of them is in the main bundle.
// The WebSocket is opened here (not by noVNC) so that the server's close
// reason reaches the page.

const VENDOR = '/pkg/vendor';

// Keysyms (X11) of the toolbar's keys, and the bytes a terminal sends.
const KEYSYMS = {
  Escape: 0xff1b, Tab: 0xff09, Enter: 0xff0d, BackSpace: 0xff08,
  Left: 0xff51, Up: 0xff52, Right: 0xff53, Down: 0xff54,
  F2: 0xffbf, F10: 0xffc7, F12: 0xffc9,
};
const CODES = {
  Escape: 'Escape', Tab: 'Tab', Enter: 'Enter', BackSpace: 'Backspace',
  Left: 'ArrowLeft', Up: 'ArrowUp', Right: 'ArrowRight', Down: 'ArrowDown',
  F2: 'F2', F10: 'F10', F12: 'F12',
};
const TERMINAL_KEYS = {
  Escape: '\x1b', Tab: '\t', Enter: '\r', BackSpace: '\x7f',
  Left: '\x1b[D', Up: '\x1b[A', Right: '\x1b[C', Down: '\x1b[B',
  F2: '\x1bOQ', F10: '\x1b[21~', F12: '\x1b[24~', CtrlC: '\x03',
};

// Whether this document was loaded for another page and reached the
// console by navigating inside the app: its security policy is then that
// page's, which does not let the serial console style itself.
export function loadedElsewhere() {
  const nav = performance.getEntriesByType('navigation')[0];
  if (!nav || !nav.name) return false;
  return new URL(nav.name).pathname !== location.pathname;
}

// xterm.js makes <style> elements; this page's policy admits those that
// carry its nonce, which must be set before they are inserted.
let stamped = false;
function stampStyleNonces() {
  if (stamped) return;
  const script = document.querySelector('script[nonce]');
  const nonce = script && script.nonce;
  if (!nonce) return;
  const create = Document.prototype.createElement;
  Document.prototype.createElement = function (name, options) {
    const element = create.call(this, name, options);
    if (String(name).toLowerCase() === 'style') element.nonce = nonce;
    return element;
  };
  stamped = true;
}

function socketUrl(path) {
  const url = new URL(path, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

// Opens the WebSocket; resolves once it is open, rejects if the server
// refused it (the browser does not say why: the page asks again).
function connect(path, onState) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(socketUrl(path));
    ws.binaryType = 'arraybuffer';
    let opened = false;
    ws.addEventListener('open', () => { opened = true; resolve(ws); });
    ws.addEventListener('close', (event) => {
      if (!opened) {
        reject(new Error('the console could not be opened (is the VM still running?)'));
        return;
      }
      onState('closed', event.reason || 'the connection was lost');
    });
  });
}

function addStylesheet(href) {
  if (document.querySelector(`link[href="${href}"]`)) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  document.head.appendChild(link);
}

async function openScreen(target, path, onState) {
  const [{ default: RFB }, { default: keysyms }] = await Promise.all([
    import(`${VENDOR}/novnc/core/rfb.js`),
    import(`${VENDOR}/novnc/core/input/keysymdef.js`),
  ]);
  const ws = await connect(path, onState);
  const rfb = new RFB(target, ws);
  rfb.scaleViewport = true;
  rfb.background = 'transparent';
  rfb.addEventListener('connect', () => onState('connected', ''));
  rfb.addEventListener('securityfailure', (e) => onState('closed', e.detail.reason || 'the VNC server refused the connection'));
  const key = (name) => {
    const sym = KEYSYMS[name];
    if (sym) rfb.sendKey(sym, CODES[name] || null);
  };
  return {
    key,
    type(text) {
      for (const ch of text) {
        if (ch === '\n' || ch === '\r') key('Enter');
        else rfb.sendKey(keysyms.lookup(ch.codePointAt(0)), null);
      }
    },
    ctrlAltDel() { rfb.sendCtrlAltDel(); },
    fit(on) { rfb.scaleViewport = on; },
    focus() { rfb.focus(); },
    close() { rfb.disconnect(); },
  };
}

async function openSerial(target, path, onState) {
  stampStyleNonces();
  addStylesheet(`${VENDOR}/xterm/xterm.css`);
  const [{ Terminal }, { FitAddon }] = await Promise.all([
    import(`${VENDOR}/xterm/xterm.mjs`),
    import(`${VENDOR}/xterm/addon-fit.mjs`),
  ]);
  const ws = await connect(path, onState);
  const term = new Terminal({ cursorBlink: true, fontSize: 14, scrollback: 5000 });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(target);
  fit.fit();
  const resized = new ResizeObserver(() => fit.fit());
  resized.observe(target);
  const encoder = new TextEncoder();
  const send = (text) => { if (ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(text)); };
  ws.addEventListener('message', (event) => {
    term.write(typeof event.data === 'string' ? event.data : new Uint8Array(event.data));
  });
  term.onData(send);
  onState('connected', '');
  term.focus();
  return {
    key(name) { if (TERMINAL_KEYS[name]) send(TERMINAL_KEYS[name]); },
    type(text) { send(text.replace(/\n/g, '\r')); },
    ctrlAltDel() {},
    fit() { fit.fit(); },
    focus() { term.focus(); },
    close() { resized.disconnect(); ws.close(); term.dispose(); },
  };
}

// Opens `kind` ("screen" or "serial") in `target` over the WebSocket at
// `path`; `onState(state, reason)` hears "connected" and "closed".
export async function openConsole(kind, target, path, onState) {
  target.replaceChildren();
  const open = kind === 'screen' ? openScreen : openSerial;
  return open(target, path, onState);
}

// The on-screen keyboard of a phone: a hidden textarea the Keyboard button
// focuses. What is typed into it goes to the console as keys and never
// stays in it.
export function attachKeyboard(area, handle) {
  area.addEventListener('beforeinput', (event) => {
    event.preventDefault();
    switch (event.inputType) {
      case 'deleteContentBackward': handle.key('BackSpace'); break;
      case 'insertLineBreak':
      case 'insertParagraph': handle.key('Enter'); break;
      default: if (event.data) handle.type(event.data);
    }
  });
}

// Full screen for the console's frame (where the browser allows it).
export function fullScreen(element) {
  if (element.requestFullscreen) element.requestFullscreen().catch(() => {});
}
