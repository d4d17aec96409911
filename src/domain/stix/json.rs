//! Strict JSON reading (placeholder).
