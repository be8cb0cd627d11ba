// Package controllers holds one package per reconciled kind; each exports a
// Reconciler registered by internal/manager.
package controllers
