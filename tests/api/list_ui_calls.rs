//! Every list call of Dispatch's UI (docs/contract.md §9) through the list layer, with the
//! collections' real list specs. Organizations use real items; the collections whose route groups
//! have not landed (members, the plugin catalogue, instances, events) use items written straight
//! into their list indexes, with the JSON views those route groups will serve.

use dispatch_domain::list::{ListParams, ListSpec, Page, list};
use dispatch_domain::{memberships, organizations, plugins};
use dispatch_shared::views::OrganizationRead;
use dispatch_store::keys::{Key, sort_value};
use dispatch_store::{Item, Store, from_attributes};
use serde_json::{Value, json};

use crate::helpers::{TestApp, create_organization, spawn_app};

/// Writes views into a collection: item `i` keyed `SYN#<collection>#i`, sorted by the given
/// values (one per list index).
async fn seed(store: &Store, collection: &str, items: &[(Value, Vec<String>)]) {
    let items = items
        .iter()
        .enumerate()
        .map(|(i, (view, sorts))| {
            let key = Key::new(format!("SYN#{collection}#{i}"), "ITEM");
            Item::new(&key, "Synthetic", view)
                .unwrap()
                .in_list(collection, sorts)
        })
        .collect();
    store.put_batch(items).await.unwrap();
}

async fn call(app: &TestApp, spec: &ListSpec, query: &str) -> Page {
    let params = ListParams::parse(Some(query)).unwrap();
    let store = app.store.clone();
    list(
        &app.store,
        &app.state.secrets().cursor,
        spec,
        &params,
        move |keys: Vec<Key>| {
            let store = store.clone();
            async move {
                Ok(store
                    .batch_get(&keys)
                    .await?
                    .into_iter()
                    .flatten()
                    .map(|item| from_attributes::<Value>(item).unwrap())
                    .collect())
            }
        },
    )
    .await
    .unwrap()
}

fn field(page: &Page, path: &[&str]) -> Vec<String> {
    page.items
        .iter()
        .map(|item| {
            path.iter()
                .fold(item, |v, k| &v[*k])
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn users_by_email_descending_with_search() {
    let app = spawn_app().await;
    let emails = [
        "ann@example.com",
        "bob@example.com",
        "cat@example.com",
        "bea@example.com",
    ];
    let items: Vec<_> = emails
        .iter()
        .enumerate()
        .map(|(i, e)| (json!({"id": i + 1, "email": e, "role": "Member", "projects": [], "organizations": []}), vec![sort_value(e, i as i32 + 1)]))
        .collect();
    // `seed` writes list entries only: the members list as on a table before the members
    // index (the list layer's behaviour is the same on both).
    let spec = memberships::member_list_spec("default", 4, memberships::MEMBERS_INDEX_SINCE - 1);
    seed(&app.store, &spec.collection, &items).await;
    let page = call(
        &app,
        &spec,
        "itemsPerPage=25&sortBy[]=email&descending[]=true",
    )
    .await;
    assert_eq!(
        field(&page, &["email"]),
        [
            "cat@example.com",
            "bob@example.com",
            "bea@example.com",
            "ann@example.com"
        ]
    );
    assert_eq!((page.total, page.items_per_page), (4, 4));
    let search = call(
        &app,
        &spec,
        "itemsPerPage=25&sortBy[]=email&descending[]=true&q=b",
    )
    .await;
    assert_eq!(
        field(&search, &["email"]),
        ["bob@example.com", "bea@example.com"]
    );
    let second = call(
        &app,
        &spec,
        "itemsPerPage=1&page=2&sortBy[]=email&descending[]=true",
    )
    .await;
    assert_eq!(field(&second, &["email"]), ["bob@example.com"]);
}

#[tokio::test]
async fn organizations_by_name_and_the_banners_slug_filter() {
    let app = spawn_app().await;
    for name in ["Zeta Corp", "alpha team", "Mid Org"] {
        create_organization(&app.store, name).await;
    }
    let spec = organizations::list_spec(4);
    let store = app.store.clone();
    let params =
        ListParams::parse(Some("itemsPerPage=50&sortBy[]=name&descending[]=false")).unwrap();
    let page = list(
        &app.store,
        &app.state.secrets().cursor,
        &spec,
        &params,
        move |keys| {
            let store = store.clone();
            async move {
                let found = organizations::load(&store, keys).await?;
                Ok(found.iter().map(OrganizationRead::json).collect())
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(
        field(&page, &["name"]),
        ["alpha team", "default", "Mid Org", "Zeta Corp"],
        "case-insensitive order"
    );
    assert_eq!(page.items_per_page, 4);
    let store = app.store.clone();
    let params = ListParams::parse(Some(
        r#"filter=[{"model":"Organization","field":"slug","op":"==","value":"mid_org"}]"#,
    ))
    .unwrap();
    let banner = list(
        &app.store,
        &app.state.secrets().cursor,
        &spec,
        &params,
        move |keys| {
            let store = store.clone();
            async move {
                let found = organizations::load(&store, keys).await?;
                Ok(found.iter().map(OrganizationRead::json).collect())
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(field(&banner, &["slug"]), ["mid_org"]);
    assert!(banner.items[0].get("banner_enabled").is_some());
}

/// The spec with its collection moved aside, so that synthetic items do not mix with the real
/// catalogue `database init` installs (the plugins route group is tested in `plugins_api`).
fn synthetic(mut spec: ListSpec) -> ListSpec {
    spec.collection = format!("SYN#{}", spec.collection);
    spec
}

fn plugin(id: i64, slug: &str, title: &str, kind: &str) -> Value {
    json!({"id": id, "slug": slug, "title": title, "type": kind, "author": "Netflix", "author_url": "https://github.com/netflix/dispatch.git", "multiple": false, "description": format!("{title} description")})
}

#[tokio::test]
async fn the_plugin_catalogue_sorts_by_slug_title_and_type() {
    let app = spawn_app().await;
    let catalogue = [
        plugin(
            1,
            "jira-ticket",
            "Jira Plugin - Ticket Management",
            "ticket",
        ),
        plugin(
            2,
            "slack-conversation",
            "Slack Plugin - Conversation Management",
            "conversation",
        ),
        plugin(
            3,
            "zoom-conference",
            "Zoom Plugin - Conference Management",
            "conference",
        ),
    ];
    let spec = synthetic(plugins::catalogue_list_spec(3));
    let items: Vec<_> = catalogue
        .iter()
        .map(|p| {
            let id = p["id"].as_i64().unwrap() as i32;
            let sorts = ["slug", "title", "type"]
                .iter()
                .map(|f| sort_value(p[*f].as_str().unwrap(), id))
                .collect();
            (p.clone(), sorts)
        })
        .collect();
    seed(&app.store, &spec.collection, &items).await;
    assert_eq!(
        field(
            &call(
                &app,
                &spec,
                "itemsPerPage=25&sortBy[]=slug&descending[]=true"
            )
            .await,
            &["slug"]
        )[0],
        "zoom-conference"
    );
    assert_eq!(
        field(
            &call(
                &app,
                &spec,
                "itemsPerPage=25&sortBy[]=type&descending[]=false"
            )
            .await,
            &["type"]
        ),
        ["conference", "conversation", "ticket"]
    );
    assert_eq!(
        field(
            &call(
                &app,
                &spec,
                "itemsPerPage=1&sortBy[]=title&descending[]=false"
            )
            .await,
            &["slug"]
        ),
        ["jira-ticket"]
    );
    assert_eq!(
        field(&call(&app, &spec, "q=conv").await, &["slug"]),
        ["slack-conversation"]
    );
}

#[tokio::test]
async fn instances_sort_by_plugin_slug_and_filter_on_enabled_and_project_name() {
    let app = spawn_app().await;
    let mut items = Vec::new();
    for (id, slug, enabled, project) in [
        (1, "jira-ticket", true, "default"),
        (2, "slack-conversation", false, "default"),
        (3, "zoom-conference", true, "default"),
        (4, "zoom-conference", true, "security"),
    ] {
        let view = json!({"id": id, "enabled": enabled, "broken": false,
            "plugin": plugin(id, slug, slug, "x"), "project": {"id": 1, "name": project}});
        items.push((view, vec![sort_value(slug, id as i32)]));
    }
    // On the keys-only list index, the one these synthetic items are in.
    let keys_only = plugins::INSTANCES_INDEX_SINCE - 1;
    let spec = synthetic(plugins::instance_list_spec("default", 4, keys_only));
    seed(&app.store, &spec.collection, &items).await;
    let table = call(
        &app,
        &spec,
        "itemsPerPage=25&sortBy[]=Plugin.slug&descending[]=true",
    )
    .await;
    assert_eq!(
        field(&table, &["plugin", "slug"]),
        [
            "zoom-conference",
            "zoom-conference",
            "slack-conversation",
            "jira-ticket"
        ]
    );
    let filter = r#"{"and":[{"model":"PluginInstance","field":"enabled","op":"==","value":"true"},{"model":"Project","field":"name","op":"==","value":"default"}]}"#;
    for size in ["-1", "50"] {
        let enabled = call(
            &app,
            &spec,
            &format!("itemsPerPage={size}&filter={}", urlencode(filter)),
        )
        .await;
        assert_eq!(
            field(&enabled, &["plugin", "slug"]),
            ["jira-ticket", "zoom-conference"],
            "itemsPerPage={size}"
        );
        assert_eq!((enabled.total, enabled.total_exact), (2, true));
    }
    assert_eq!(
        call(&app, &spec, "q=slack").await.total,
        1,
        "search goes through the plugin"
    );
}

#[tokio::test]
async fn plugin_events_list_with_the_table_defaults() {
    let app = spawn_app().await;
    let spec = synthetic(plugins::event_list_spec(2));
    let items = vec![
        (
            json!({"id": 1, "name": "Daily report", "slug": "daily-report", "description": "d", "plugin": plugin(1, "slack-conversation", "Slack", "conversation")}),
            vec![sort_value("daily-report", 1)],
        ),
        (
            json!({"id": 2, "name": "Case created", "slug": "case-created", "description": "c", "plugin": plugin(1, "slack-conversation", "Slack", "conversation")}),
            vec![sort_value("case-created", 2)],
        ),
    ];
    seed(&app.store, &spec.collection, &items).await;
    let page = call(&app, &spec, "").await;
    assert_eq!(field(&page, &["slug"]), ["case-created", "daily-report"]);
    assert_eq!((page.items_per_page, page.page, page.total), (2, 1, 2));
    let by_plugin = call(
        &app,
        &spec,
        r#"filter={"model":"Plugin","field":"slug","value":"slack-conversation"}"#,
    )
    .await;
    assert_eq!(by_plugin.total, 2);
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
