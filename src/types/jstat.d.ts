// The parts of jstat (no published types) that specsci uses.
declare module "jstat" {
  interface Distribution {
    cdf(x: number, ...params: number[]): number;
    inv(p: number, ...params: number[]): number;
  }
  const jstat: {
    jStat: {
      studentt: Distribution;
      normal: Distribution;
      chisquare: Distribution;
    };
  };
  export default jstat;
}
