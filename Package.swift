// swift-tools-version: 6.0
import PackageDescription

// Layers, imports one way only (README "Architecture"):
//   ZuoraSyncCore → ZuoraSyncHTTP → ZuoraAPI → ZuoraSyncStore → ZuoraSyncEngine → ZuoraSyncReport → ZuoraSyncStages
//   → ZuoraSyncJobs → zuora-sync; ZuoraSyncMock (the only target linking FlyingFox) and
//   ZuoraSyncTesting sit beside the stages for the demo, benchmarks and tests.
let package = Package(
    name: "zuora-sync",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "zuora-sync", targets: ["zuora-sync"]),
        .library(name: "ZuoraSyncStages", targets: ["ZuoraSyncStages"]),
        .library(name: "ZuoraSyncTesting", targets: ["ZuoraSyncTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swhitty/FlyingFox.git", from: "0.27.1"),
        .package(url: "https://github.com/JohnSundell/Plot.git", from: "0.14.0"),
    ],
    targets: [
        // libcurl behind small typed C functions.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // libpq for the PostgreSQL store (Debian libpq-dev).
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // libcrypto (SHA-256, random bytes, AES-GCM) and syncfs.
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // Configuration types, data-directory layout, canonical JSON, errors, seams (clock,
        // randomness, environment, sleeping). Knows nothing of HTTP, Zuora or the database.
        .target(name: "ZuoraSyncCore", dependencies: ["CCrypto", .product(name: "Yams", package: "Yams")]),
        // The transport seam and the libcurl transport. Knows no Zuora path.
        .target(name: "ZuoraSyncHTTP", dependencies: ["ZuoraSyncCore", "CCurl"]),
        // Zuora's three calls: token, list, export; retries; the read-only path allowlist.
        .target(name: "ZuoraAPI", dependencies: [
            "ZuoraSyncCore", "ZuoraSyncHTTP", "CCrypto", .product(name: "Logging", package: "swift-log"),
        ]),
        // The database (SQLite through GRDB, PostgreSQL through libpq), snapshots, objects, trash, the semantic diff.
        .target(name: "ZuoraSyncStore", dependencies: [
            "ZuoraSyncCore", "ZuoraAPI", "CPostgres", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // The engine: stage-kind protocol, registry, loader, runner, manifest, summaries. Names no kind.
        .target(name: "ZuoraSyncEngine", dependencies: [
            "ZuoraSyncCore", "ZuoraSyncHTTP", "ZuoraAPI", "ZuoraSyncStore",
            .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams"),
        ]),
        // The static HTML report (Plot for the HTML, no string-concatenated markup): overview,
        // jobs, customers, workflows with task graphs, runs. Reads the store and the run files.
        .target(name: "ZuoraSyncReport", dependencies: [
            "ZuoraSyncCore", "ZuoraSyncStore", "ZuoraSyncEngine", .product(name: "Plot", package: "Plot"),
        ]),
        // The built-in stage kinds, one file each, and their registry.
        .target(name: "ZuoraSyncStages", dependencies: ["ZuoraSyncCore", "ZuoraAPI", "ZuoraSyncStore", "ZuoraSyncEngine", "ZuoraSyncReport"]),
        // Queue (files, or PostgreSQL's jobs table), worker, scheduler, notifications.
        .target(name: "ZuoraSyncJobs", dependencies: [
            "ZuoraSyncCore", "ZuoraSyncHTTP", "ZuoraSyncStore", "ZuoraSyncEngine", "ZuoraSyncStages", .product(name: "Logging", package: "swift-log"),
        ]),
        // Fixtures, the mock Zuora (in process and over HTTP).
        .target(name: "ZuoraSyncMock", dependencies: [
            "ZuoraSyncCore", "ZuoraSyncHTTP",
            .product(name: "FlyingFox", package: "FlyingFox"), .product(name: "FlyingSocks", package: "FlyingFox"),
        ]),
        // Test support: a transport that fails on unexpected requests, a StageContext factory,
        // the built binary's location.
        .target(name: "ZuoraSyncTesting", dependencies: [
            "ZuoraSyncCore", "ZuoraSyncHTTP", "ZuoraAPI", "ZuoraSyncStore", "ZuoraSyncEngine", "ZuoraSyncStages", "ZuoraSyncMock",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(
            name: "zuora-sync",
            dependencies: [
                "ZuoraSyncCore", "ZuoraSyncHTTP", "ZuoraAPI", "ZuoraSyncStore", "ZuoraSyncEngine", "ZuoraSyncReport", "ZuoraSyncStages",
                "ZuoraSyncJobs", "ZuoraSyncMock", "CCurl",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "ZuoraSyncTests",
            dependencies: [
                "ZuoraSyncCore", "ZuoraSyncHTTP", "ZuoraAPI", "ZuoraSyncStore", "ZuoraSyncEngine", "ZuoraSyncReport", "ZuoraSyncStages",
                "ZuoraSyncJobs", "ZuoraSyncMock", "ZuoraSyncTesting",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "FlyingFox", package: "FlyingFox"), .product(name: "FlyingSocks", package: "FlyingFox"),
            ],
            exclude: ["Golden"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
