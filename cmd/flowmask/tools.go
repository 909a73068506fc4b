//go:build tools

// Package main pins dependencies that later packages import; removed once they are all in use.
package main

import (
	_ "github.com/Azure/azure-sdk-for-go/sdk/azcore"
	_ "github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	_ "github.com/Azure/azure-sdk-for-go/sdk/monitor/ingestion/azlogs"
	_ "github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	_ "github.com/cloudflare/ahocorasick"
	_ "github.com/elastic/go-elasticsearch/v8"
	_ "github.com/elazarl/goproxy"
	_ "github.com/fsnotify/fsnotify"
	_ "github.com/klauspost/compress/gzip"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/spf13/cobra"
	_ "github.com/valyala/fastjson"
	_ "go.uber.org/zap"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/crypto/bcrypt"
	_ "golang.org/x/term"
	_ "golang.org/x/text/encoding/htmlindex"
)
