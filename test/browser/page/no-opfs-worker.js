// The engine's worker entry in a scope where OPFS is missing (modules evaluate in import order).
import "./remove-opfs.js";
import "../../../worker/main.ts";
