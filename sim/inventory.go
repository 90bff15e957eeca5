package sim

import (
	"fmt"
	"io"

	"github.com/stratus-monitoring/stratus/inventory"
)

// InventoryFile is the name WriteDir gives the world's inventory.
const InventoryFile = "inventory.yaml"

// inventoryTypes maps the kinds of the world's resources outside Kubernetes
// (Terraform resource types, as an IaC reader would name them) to inventory
// types.
var inventoryTypes = map[string]string{
	"vm":                                 inventory.TypeVM,
	"aws_db_instance":                    inventory.TypeDatabase,
	"aws_mq_broker":                      inventory.TypeBroker,
	"google_sql_database_instance":       inventory.TypeDatabase,
	"google_compute_instance":            inventory.TypeVM,
	"azurerm_postgresql_flexible_server": inventory.TypeDatabase,
	"azurerm_servicebus_namespace":       inventory.TypeBroker,
	"vsphere_virtual_machine":            inventory.TypeVM,
}

// Inventory returns the world's resources outside Kubernetes (virtual
// machines, managed databases and brokers) as an inventory: with the ids its
// billing export uses and the tags of truth.json, some of them missing or
// spelled differently (Options.UntaggedShare), as in real accounts. Kubernetes
// nodes are left out: the cost engine finds them in kube-state-metrics.
func (w *World) Inventory() []inventory.Resource {
	var out []inventory.Resource
	for _, r := range w.resources {
		t, ok := inventoryTypes[r.Kind]
		if !ok {
			continue
		}
		tags := make(map[string]string, len(r.Tags))
		for k, v := range r.Tags {
			tags[k] = v
		}
		out = append(out, inventory.Resource{
			ID: r.ID, Type: t, Name: r.Name, Cloud: r.Cloud, Region: r.Region,
			InstanceType: r.Type, Tags: tags,
		})
	}
	return out
}

// WriteInventory writes Inventory as an inventory file.
func (w *World) WriteInventory(out io.Writer) error {
	if err := inventory.Write(out, w.Inventory()); err != nil {
		return fmt.Errorf("writing the inventory: %w", err)
	}
	return nil
}
