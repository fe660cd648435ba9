export * from "./audit";
export * from "./auth";
export * from "./health";
export * from "./registry";
export * from "./servers";
export * from "./usage";
