package inventory

import (
	"io"
	"slices"

	"go.yaml.in/yaml/v3"
)

// fileResource is a Resource as an inventory file spells it.
type fileResource struct {
	ID           string            `yaml:"id"`
	Type         string            `yaml:"type"`
	Name         string            `yaml:"name,omitempty"`
	Cloud        string            `yaml:"cloud"`
	Region       string            `yaml:"region,omitempty"`
	Account      string            `yaml:"account,omitempty"`
	InstanceType string            `yaml:"instance_type,omitempty"`
	OS           string            `yaml:"os,omitempty"`
	Purchase     string            `yaml:"purchase,omitempty"`
	Product      string            `yaml:"product,omitempty"`
	SizeGiB      *float64          `yaml:"size_gib,omitempty"`
	MemoryMiB    float64           `yaml:"memory_mib,omitempty"`
	Tags         map[string]string `yaml:"tags,omitempty"`
}

// Write writes resources as an inventory file that Parse reads back to the
// same resources (File and Line aside). Tag keys are sorted.
func Write(w io.Writer, resources []Resource) error {
	doc := struct {
		Resources []fileResource `yaml:"resources"`
	}{Resources: make([]fileResource, 0, len(resources))}
	for _, r := range resources {
		fr := fileResource{
			ID: r.ID, Type: r.Type, Name: r.Name, Cloud: r.Cloud, Region: r.Region,
			Account: r.Account, InstanceType: r.InstanceType, OS: r.OS,
			Purchase: r.Purchase, Product: r.Product, Tags: r.Tags, MemoryMiB: r.MemoryMiB,
		}
		if slices.Contains(storedTypes, r.Type) {
			size := r.SizeGiB
			fr.SizeGiB = &size
		}
		doc.Resources = append(doc.Resources, fr)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}
