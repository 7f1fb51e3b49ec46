/** Typed FITS error: one-line message naming the file, the HDU (0-based) and the problem. */
export class FitsError extends Error {
  override readonly name = 'FitsError';
  constructor(
    readonly problem: string,
    readonly file?: string,
    readonly hdu?: number,
  ) {
    super(FitsError.format(problem, file, hdu));
  }

  static format(problem: string, file?: string, hdu?: number): string {
    const where = [file, hdu === undefined ? undefined : `HDU ${hdu}`].filter((s) => s !== undefined).join(', ');
    return where ? `${where}: ${problem}` : problem;
  }

  /** Return a copy of this error located in a file/HDU (keeps the innermost known location). */
  locate(file?: string, hdu?: number): FitsError {
    return new FitsError(this.problem, this.file ?? file, this.hdu ?? hdu);
  }
}
