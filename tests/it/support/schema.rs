//! The shipped JSON Schema, compiled once, for validating every config the tests write.

use std::sync::OnceLock;

const SCHEMA: &str = include_str!("../../../schema/credential-helper.schema.json");

struct Compiled {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let value: serde_json::Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler
            .add_resource("file:///credential-helper.schema.json", value)
            .expect("schema resource");
        let index = compiler
            .compile("file:///credential-helper.schema.json", &mut schemas)
            .expect("schema compiles");
        Compiled { schemas, index }
    })
}

/// Validates a config document against the schema.
pub fn validate(json: &str) -> Result<(), String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let c = compiled();
    c.schemas
        .validate(&value, c.index)
        .map_err(|e| format!("{e:#}"))
}
