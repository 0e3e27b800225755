/** The shared formatting, under the name the renderer's modules import. */
export * from '../../../shared/format';
