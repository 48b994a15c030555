// Types of the built client copied beside it (miniclient.js): the package's own.
export * from '../../index';
