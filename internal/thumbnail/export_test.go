package thumbnail

// ProcessCPU is processCPU, for the benchmarks of package thumbnail_test.
var ProcessCPU = processCPU
