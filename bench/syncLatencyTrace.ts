/**
 * In-page tracing for the sync-latency benchmark: stamps every RTCDataChannel `send` and
 * every `message` a data channel delivers (libp2p's WebRTC streams and simple-peer's
 * channels alike), on the same clock as the benchmark's samples. Installed when the page's
 * bench module loads; recording only while {@link startTrace} … {@link takeTrace}.
 */

/** Data-channel events of one page, on the performance.timeOrigin + performance.now() clock. */
export interface Trace {
	sends: number[];
	receives: number[];
}

const trace: Trace = { sends: [], receives: [] };
let recording = false;
const now = (): number => performance.timeOrigin + performance.now();

type Listener = EventListenerOrEventListenerObject;

/** Wraps RTCDataChannel's send, its `onmessage` setter and its `message` listeners. */
function install(): void {
	if (typeof RTCDataChannel === 'undefined') return;
	const proto = RTCDataChannel.prototype;
	const send = proto.send;
	proto.send = function (this: RTCDataChannel, ...args: Parameters<RTCDataChannel['send']>) {
		if (recording) trace.sends.push(now());
		// send's overloads take one argument each; forward it as given.
		return (send as (...a: unknown[]) => void).apply(this, args);
	} as RTCDataChannel['send'];

	const stamp = () => {
		if (recording) trace.receives.push(now());
	};
	const onmessage = Object.getOwnPropertyDescriptor(proto, 'onmessage');
	if (onmessage?.set !== undefined && onmessage.get !== undefined) {
		const { get, set } = onmessage;
		Object.defineProperty(proto, 'onmessage', {
			configurable: true,
			enumerable: onmessage.enumerable ?? true,
			get(this: RTCDataChannel) {
				return get.call(this);
			},
			set(this: RTCDataChannel, handler: ((event: MessageEvent) => unknown) | null) {
				if (typeof handler !== 'function') return set.call(this, handler);
				const inner = (event: MessageEvent) => {
					stamp();
					return handler.call(this, event);
				};
				set.call(this, inner);
			}
		});
	}

	const wrappers = new WeakMap<Listener, EventListener>();
	const add = EventTarget.prototype.addEventListener;
	const remove = EventTarget.prototype.removeEventListener;
	proto.addEventListener = function (this: RTCDataChannel, type: string, listener: Listener | null, options?: boolean | AddEventListenerOptions) {
		if (type !== 'message' || listener === null) return add.call(this, type, listener, options);
		let inner = wrappers.get(listener);
		if (inner === undefined) {
			inner = (event: Event) => {
				stamp();
				return typeof listener === 'function' ? listener.call(this, event) : listener.handleEvent(event);
			};
			wrappers.set(listener, inner);
		}
		add.call(this, type, inner, options);
	} as RTCDataChannel['addEventListener'];
	proto.removeEventListener = function (this: RTCDataChannel, type: string, listener: Listener | null, options?: boolean | EventListenerOptions) {
		const inner = listener !== null && type === 'message' ? wrappers.get(listener) : undefined;
		remove.call(this, type, inner ?? listener, options);
	} as RTCDataChannel['removeEventListener'];
}

install();

/** Starts recording (forgets what was recorded before). */
export function startTrace(): void {
	trace.sends.length = 0;
	trace.receives.length = 0;
	recording = true;
}

/** Stops recording and returns what was recorded. */
export function takeTrace(): Trace {
	recording = false;
	return { sends: [...trace.sends], receives: [...trace.receives] };
}
