//! `dispatch database init` and the other admin commands against the local stack.

use dispatch_domain::model::{Organization, Project};
use dispatch_store::keys;

use crate::helpers::{empty_store, scan_all};

#[tokio::test]
async fn init_creates_the_table_and_the_default_organization_with_its_project() {
    let store = empty_store().await;
    let report = dispatch_cli::database::init(&store).await.unwrap();
    assert!(report.table_created);
    assert_eq!(
        report.schema_recorded,
        Some(dispatch_domain::migrations::HEAD)
    );
    let (org_id, slug) = report
        .default_organization_created
        .clone()
        .expect("created now");
    assert_eq!(slug, "default");

    let org: Organization = store
        .get(&keys::organization("default"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(org.id, org_id);
    assert_eq!(org.name, "default");
    assert_eq!(
        org.description.as_deref(),
        Some("Default Dispatch organization.")
    );
    assert!(org.default);
    assert_eq!(org.project_count, 1);

    let guard = store
        .get_attributes(&keys::project_name_guard("default", "default"))
        .await
        .unwrap()
        .unwrap();
    let project_id: i32 = guard["project_id"].as_n().unwrap().parse().unwrap();
    let project: Project = store
        .get(&keys::project("default", project_id))
        .await
        .unwrap()
        .unwrap();
    assert!(project.default);
    assert_eq!(
        project.description.as_deref(),
        Some("Default Dispatch project.")
    );
    assert_eq!(project.annual_employee_cost, Some(50_000));
    assert_eq!(project.organization_id, org.id);
}

#[tokio::test]
async fn init_run_twice_leaves_the_table_identical() {
    let store = empty_store().await;
    dispatch_cli::database::init(&store).await.unwrap();
    let after_first = scan_all(&store).await;
    assert!(
        after_first.len() >= 8,
        "table, guards, org, project: {}",
        after_first.len()
    );

    let second = dispatch_cli::database::init(&store).await.unwrap();
    assert!(!second.table_created && second.schema_recorded.is_none());
    assert_eq!(second.default_organization_created, None);
    assert_eq!(
        scan_all(&store).await,
        after_first,
        "the second run changed the table"
    );
}

#[tokio::test]
async fn concurrent_inits_create_one_default_organization() {
    let store = empty_store().await;
    let runs = (0..3).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { dispatch_cli::database::init(&store).await })
    });
    let mut created = 0;
    for run in runs.collect::<Vec<_>>() {
        if run
            .await
            .unwrap()
            .unwrap()
            .default_organization_created
            .is_some()
        {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    let orgs = scan_all(&store)
        .await
        .into_iter()
        .filter(|i| {
            i.get("entity")
                .and_then(|e| e.as_s().ok())
                .map(String::as_str)
                == Some("Organization")
        })
        .count();
    assert_eq!(orgs, 1);
}

#[test]
fn server_config_never_prints_secret_values() {
    let env = |name: &str| match name {
        "DISPATCH_TABLE_NAME" => Some("dispatch".to_owned()),
        "DISPATCH_JWT_SECRET_ID" => Some("dispatch/jwt".to_owned()),
        // Dispatch's own variable holds the key itself; we never print unknown variables.
        "DISPATCH_JWT_SECRET" => Some("super-secret-key-material".to_owned()),
        // The value the template's CloudFront shares with the functions: shown as set only.
        "DISPATCH_TRUSTED_EDGE_SECRET" => Some("edge-value-1b2d-4c3e-9f8a-7b6c5d4e3f2a".to_owned()),
        _ => None,
    };
    let printed = dispatch_cli::server::config_table(env);
    assert!(printed.contains("dispatch/jwt"));
    assert!(printed.contains("86400 (default)"));
    assert!(!printed.contains("super-secret-key-material"));
    assert!(!printed.contains("edge-value"));
    assert!(printed.contains("DISPATCH_TRUSTED_EDGE_SECRET") && printed.contains("(set)"));
    // The JSON form too.
    let json = dispatch_cli::server::config_json(env);
    assert_eq!(json["DISPATCH_JWT_SECRET_ID"], "dispatch/jwt");
    assert_eq!(json["DISPATCH_REQUEST_BUDGET_MS"], "8000");
    assert!(!json.to_string().contains("super-secret-key-material"));
    assert_eq!(json["DISPATCH_TRUSTED_EDGE_SECRET"], "(set)");
    assert!(!json.to_string().contains("edge-value"));
}

mod user_commands {
    use dispatch_cli::user::{RoleArg, UserCommand, run_with};
    use http::StatusCode;

    use crate::helpers::{authed, spawn_app};

    const PASSWORD: &str = "correct horse battery";

    fn no_prompt() -> anyhow::Result<String> {
        anyhow::bail!("no terminal in tests")
    }

    #[tokio::test]
    async fn register_honours_the_role_and_refuses_a_taken_email() {
        let app = spawn_app().await;
        let command = UserCommand::Register {
            email: "owner@example.com".into(),
            organization: "default".into(),
            role: RoleArg::Owner,
            password: Some(PASSWORD.into()),
            password_stdin: false,
        };
        assert_eq!(
            run_with(&app.store, command, no_prompt).await.unwrap(),
            "User registered successfully."
        );
        let login = app.login("owner@example.com", PASSWORD).await;
        let token = login.body["token"].as_str().unwrap();
        let role = app
            .send(authed("GET", "/api/v1/default/auth/myrole", token))
            .await;
        assert_eq!(role.body, "Owner", "the role is honoured (Q-U5)");

        let again = UserCommand::Register {
            email: "owner@example.com".into(),
            organization: "default".into(),
            role: RoleArg::Member,
            password: Some(PASSWORD.into()),
            password_stdin: false,
        };
        let error = run_with(&app.store, again, no_prompt).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "User already exists. Email: owner@example.com"
        );
    }

    #[tokio::test]
    async fn a_prompted_password_is_used_and_a_short_one_refused() {
        let app = spawn_app().await;
        let command = |email: &str| UserCommand::Register {
            email: email.into(),
            organization: "default".into(),
            role: RoleArg::Member,
            password: None,
            password_stdin: false,
        };
        run_with(&app.store, command("p@example.com"), || {
            Ok(PASSWORD.to_owned())
        })
        .await
        .unwrap();
        assert_eq!(
            app.login("p@example.com", PASSWORD).await.status,
            StatusCode::OK
        );
        let error = run_with(&app.store, command("q@example.com"), || {
            Ok("short".to_owned())
        })
        .await
        .unwrap_err();
        assert!(
            error.to_string().contains("at least 8 characters"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn update_makes_the_first_owner_of_an_organization_the_user_was_not_in() {
        let app = spawn_app().await;
        let acme = crate::helpers::create_organization(&app.store, "Acme Corp").await;
        let token = app.register("ivy@example.com", PASSWORD).await;
        let myrole = format!("/api/v1/{}/auth/myrole", acme.slug);
        assert_eq!(
            app.send(authed("GET", &myrole, &token)).await.body,
            serde_json::Value::Null
        );

        let command = UserCommand::Update {
            email: "ivy@example.com".into(),
            organization: acme.slug.as_str().to_owned(),
            role: RoleArg::Owner,
        };
        assert_eq!(
            run_with(&app.store, command, no_prompt).await.unwrap(),
            "User successfully updated."
        );
        assert_eq!(app.send(authed("GET", &myrole, &token)).await.body, "Owner");
        let org: dispatch_domain::model::Organization = app
            .store
            .get(&dispatch_store::keys::organization(&acme.slug))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(org.member_count, 1);

        let missing = UserCommand::Update {
            email: "nobody@example.com".into(),
            organization: acme.slug.as_str().to_owned(),
            role: RoleArg::Owner,
        };
        let error = run_with(&app.store, missing, no_prompt).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "No user found. Email: nobody@example.com"
        );
    }

    #[tokio::test]
    async fn reset_sets_the_password_and_revokes_older_tokens() {
        let app = spawn_app().await;
        let token = app.register("jack@example.com", PASSWORD).await;
        let command = UserCommand::Reset {
            email: "jack@example.com".into(),
            password: Some("a brand new passphrase".into()),
            password_stdin: false,
        };
        assert_eq!(
            run_with(&app.store, command, no_prompt).await.unwrap(),
            "User password successfully updated."
        );
        assert_eq!(
            app.login("jack@example.com", PASSWORD).await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            app.login("jack@example.com", "a brand new passphrase")
                .await
                .status,
            StatusCode::OK
        );
        let old = app
            .send(authed("GET", "/api/v1/default/auth/me", &token))
            .await;
        assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    }

    /// `dispatch user …` as typed on the command line.
    fn parsed(args: &[&str]) -> Result<UserCommand, clap::Error> {
        use clap::Parser;
        let args = ["dispatch", "user"].iter().chain(args);
        match dispatch_cli::Cli::try_parse_from(args)?.command {
            dispatch_cli::Command::User(command) => Ok(command),
            other => panic!("not a user command: {other:?}"),
        }
    }

    #[tokio::test]
    async fn register_and_reset_read_the_password_from_standard_input() {
        let app = spawn_app().await;
        let register = parsed(&[
            "register",
            "stdin@example.com",
            "-o",
            "default",
            "-r",
            "Member",
            "--password-stdin",
        ])
        .unwrap();
        // Only the trailing newline goes: the line break inside is part of the password.
        let register = register
            .with_password_from("first line\nsecond line\n".as_bytes())
            .unwrap();
        run_with(&app.store, register, no_prompt).await.unwrap();
        assert_eq!(
            app.login("stdin@example.com", "first line\nsecond line")
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            app.login("stdin@example.com", "first line").await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );

        let reset = parsed(&["reset", "stdin@example.com", "--password-stdin"]).unwrap();
        let reset = reset
            .with_password_from("a brand new passphrase\r\n".as_bytes())
            .unwrap();
        run_with(&app.store, reset, no_prompt).await.unwrap();
        assert_eq!(
            app.login("stdin@example.com", "a brand new passphrase")
                .await
                .status,
            StatusCode::OK
        );

        // The same policy as everywhere else.
        let short = parsed(&["reset", "stdin@example.com", "--password-stdin"])
            .unwrap()
            .with_password_from("short\n".as_bytes())
            .unwrap();
        let error = run_with(&app.store, short, no_prompt).await.unwrap_err();
        assert!(
            error.to_string().contains("at least 8 characters"),
            "{error}"
        );

        // Both ways at once is a usage error.
        for command in ["register", "reset"] {
            let mut args = vec![command, "x@example.com", "--password", PASSWORD];
            if command == "register" {
                args.extend(["-o", "default", "-r", "Member"]);
            }
            args.push("--password-stdin");
            let error = parsed(&args).unwrap_err();
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ArgumentConflict,
                "{error}"
            );
        }
    }
}

/// `dispatch completions SHELL` completes the command groups, their subcommands and the global
/// flags, as each shell spells them.
#[test]
fn completion_scripts_cover_the_command_tree() {
    use clap_complete::Shell;
    let script = |shell: Shell| {
        let mut out = Vec::new();
        dispatch_cli::completions::write(shell, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let script = script(shell);
        for word in ["database", "upgrade", "user", "register", "scheduler"] {
            assert!(script.contains(word), "{shell}: {word} missing");
        }
    }
    assert!(script(Shell::Bash).contains("--table"));
    assert!(script(Shell::Zsh).contains("--table"));
    assert!(script(Shell::Fish).contains("-l table"));
    assert!(script(Shell::Bash).contains("complete -F _dispatch"));
}

/// `--quiet` and `-v`/`-vv` are global, as in AWS tools: accepted before or after the command,
/// exclusive, and they set the log level (RUST_LOG, when set, wins).
#[test]
fn quiet_and_verbose_are_global_exclusive_and_set_the_log_level() {
    use clap::Parser;
    use dispatch_cli::Cli;
    use dispatch_cli::output::log_filter;
    let parse = |args: &[&str]| {
        Cli::try_parse_from(std::iter::once("dispatch").chain(args.iter().copied()))
    };
    let quiet = parse(&[
        "user", "register", "a@b.co", "-o", "default", "-r", "Member", "--quiet",
    ])
    .expect("--quiet after the command");
    assert!(quiet.global.quiet);
    let verbose = parse(&["-vv", "server", "routes"]).expect("-vv before the command");
    assert_eq!(verbose.global.verbose, 2);
    assert_eq!(
        parse(&["server", "config", "-v"]).unwrap().global.verbose,
        1
    );
    let both = parse(&["-q", "-v", "server", "routes"]).expect_err("quiet and verbose");
    assert_eq!(both.kind(), clap::error::ErrorKind::ArgumentConflict);

    assert_eq!(log_filter(true, 0), "error");
    assert_eq!(log_filter(false, 0), "info");
    assert!(log_filter(false, 1).contains("dispatch_domain=debug"));
    assert!(
        !log_filter(false, 1).starts_with("debug"),
        "-v: our debug events only"
    );
    assert_eq!(log_filter(false, 2), "debug");
}
