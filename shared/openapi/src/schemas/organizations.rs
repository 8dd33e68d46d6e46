//! Organizations: `dispatch_shared::views::OrganizationRead` and the bodies of `functions/organizations`.

use serde_json::{Map, Value, json};

use super::{boolean, closed, id, integer, nullable, open, string, text};

pub fn schemas() -> Map<String, Value> {
    let mut schemas = Map::new();
    schemas.insert(
        "OrganizationRead".into(),
        closed(
            "An organization (a tenant).",
            json!({
                "id": integer(),
                "name": string(),
                "description": nullable(string()),
                "default": boolean(),
                "banner_enabled": boolean(),
                "banner_color": nullable(string()),
                "banner_text": nullable(string()),
                "slug": string(),
            }),
        ),
    );
    let editable = |mut properties: Value| {
        let map = properties.as_object_mut().expect("an object");
        map.insert("description".into(), nullable(text(0, 10_000)));
        map.insert("default".into(), json!({
            "type": ["boolean", "null"],
            "description": "The default organization is the operator's choice: a change is refused.",
        }));
        map.insert("banner_enabled".into(), nullable(boolean()));
        map.insert("banner_color".into(), nullable(text(0, 255)));
        map.insert("banner_text".into(), nullable(text(3, 1_000)));
        properties
    };
    schemas.insert(
        "OrganizationCreate".into(),
        open(
            "A new organization; its slug comes from the name, its id is allocated (`id`, `slug` and other keys are ignored), and the caller becomes its Owner.",
            &["name"],
            editable(json!({ "name": text(3, 250) })),
        ),
    );
    schemas.insert(
        "OrganizationUpdate".into(),
        open(
            "Only the fields sent change; the name (and so the slug) never does, and `id` may only repeat the path's.",
            &[],
            editable(json!({ "id": nullable(id()) })),
        ),
    );
    schemas
}
