package cost

// Input is everything one evaluation step allocates.
type Input struct {
	Nodes      []Node
	Containers []Container
	Resources  []Resource
	Tasks      []Task
	Functions  []Function
}

// Allocate runs AllocateNodeCost, AllocateResourceCost, AllocateTaskCost and
// AllocateFunctionCost over the input and merges their results. The first error
// stops it; a resource id used by two kinds of input (a node and a VM, say) is an
// error too.
func Allocate(in Input) (*Result, error) {
	nodes, err := AllocateNodeCost(in.Nodes, in.Containers)
	if err != nil {
		return nil, err
	}
	resources, err := AllocateResourceCost(in.Resources)
	if err != nil {
		return nil, err
	}
	tasks, err := AllocateTaskCost(in.Tasks)
	if err != nil {
		return nil, err
	}
	functions, err := AllocateFunctionCost(in.Functions)
	if err != nil {
		return nil, err
	}
	return Merge(nodes, resources, tasks, functions)
}
