/**
 * The IPC channels between the preload and main. Three fixed channels carry the whole control API:
 * the renderer can reach nothing else. Pure constants: the preload and main both import them.
 */
export const CALL_CHANNEL = 'vigil:call';
export const SUBSCRIBE_CHANNEL = 'vigil:subscribe';
export const UNSUBSCRIBE_CHANNEL = 'vigil:unsubscribe';
export const EVENT_CHANNEL = 'vigil:event';
